import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import {
  ERROR_RATE_FLOOR,
  FEATURE_NAMES,
  MODEL_METRICS,
  type ModelRow,
  NO_RECENT,
  buildFeatures,
  metricRange,
  ZERO_LOW_TARGET,
  judgedTarget,
  targetOf,
} from './features.js';
import { CalibratedRanges, parseModelSet, summarizeModelSet, trainModelSet } from './model-set.js';
import { loadRanges, takesTodaysFeatures } from './service.js';
import { syntheticRows, trueP99Range } from './test-rows.js';

const U = FEATURE_NAMES.indexOf('simCpuUtilisation');

function covered(ranges: CalibratedRanges, rows: ReturnType<typeof syntheticRows>, observe: boolean): number {
  let inside = 0;
  for (const row of rows) {
    const r = ranges.range('latencyP99Ms', row.simulated.latencyP99Ms ?? 0, row.features, row.service);
    const y = row.observed.latencyP99Ms ?? Number.NaN;
    if (y >= r.low && y <= r.high) inside++;
    if (observe) ranges.observe(row);
  }
  return inside / rows.length;
}

describe('features and targets', () => {
  it('learns ratios for latency and CPU, a log rate for errors, and maps ranges back', () => {
    expect(targetOf('latencyP99Ms', 20, 40)).toBeCloseTo(Math.log(2), 12);
    expect(targetOf('errorRate', 0, 0.03)).toBeCloseTo(Math.log(0.03 + ERROR_RATE_FLOOR), 12);
    expect(targetOf('errorRate', null, 0)).toBeCloseTo(Math.log(ERROR_RATE_FLOOR), 12);
    expect(targetOf('errorRate', 0, -1)).toBeNull();
    expect(targetOf('cpuCores', null, 0.1)).toBeNull();
    expect(targetOf('latencyP50Ms', 10, null)).toBeNull();
    expect(metricRange('latencyP99Ms', 20, { low: -Math.LN2, high: Math.LN2 })).toEqual({
      low: 10,
      high: 40,
    });
    const floor = Math.log(ERROR_RATE_FLOOR);
    expect(metricRange('errorRate', 0, { low: floor - 1, high: 1.5 })).toEqual({ low: 0, high: 1 });
    const rates = metricRange('errorRate', 0, {
      low: targetOf('errorRate', 0, 0.01) ?? Number.NaN,
      high: targetOf('errorRate', 0, 0.05) ?? Number.NaN,
    });
    expect(rates.low).toBeCloseTo(0.01, 12);
    expect(rates.high).toBeCloseTo(0.05, 12);
    // A low under the floor's rate (0.03%) starts at 0; one above it stays where it is.
    const from = (rate: number) =>
      metricRange('errorRate', 0, { low: targetOf('errorRate', 0, rate) ?? Number.NaN, high: 0 }).low;
    expect(from(1e-4)).toBe(0);
    expect(from(2.9e-4)).toBe(0);
    expect(from(5e-4)).toBeCloseTo(5e-4, 12);
    // Calibration judges a window by what the ranges can tell apart: every rate under the floor's
    // as the floor's, so windows without errors do not widen the side below.
    expect(judgedTarget('errorRate', floor)).toBe(ZERO_LOW_TARGET);
    expect(from(Math.exp(ZERO_LOW_TARGET) - ERROR_RATE_FLOOR - 1e-12)).toBe(0);
    const onePercent = targetOf('errorRate', 0, 0.01) ?? Number.NaN;
    expect(judgedTarget('errorRate', onePercent)).toBe(onePercent);
    expect(judgedTarget('latencyP99Ms', -3)).toBe(-3);
    const features = buildFeatures({
      at: 0,
      ratePerSec: 10,
      replicas: 2,
      concurrency: 8,
      cpuPerReplica: 0.5,
      profile: { p50Ms: 5, p95Ms: 12, cpuMsPerRequest: 2 },
      simulated: {
        latencyP50Ms: 5,
        latencyP95Ms: 12,
        latencyP99Ms: 20,
        errorRate: 0,
        cpuCores: 0.02,
        slotUtilisation: 0.1,
      },
      revisionAgeHours: 1,
      recent: NO_RECENT,
    });
    expect(features).toHaveLength(FEATURE_NAMES.length);
    expect(features[U]).toBeCloseTo(0.02, 12);
    expect(features.every(Number.isFinite)).toBe(true);
  });
});

describe('model sets', () => {
  it('learns a known correction and its noise level: 90% ranges hold 90% of new windows', async () => {
    const set = await trainModelSet(syntheticRows(3_000, 1), { now: 0, worker: false });
    expect(set).not.toBeNull();
    expect(Object.keys(set?.metrics ?? {}).sort()).toEqual([...MODEL_METRICS].sort());
    // The latency quantiles sit on a linear base; CPU and the error rate do not.
    for (const metric of MODEL_METRICS) {
      const version = set?.metrics[metric];
      const lined = metric.startsWith('latency');
      expect(version?.settings.linearBase).toBe(lined);
      expect(version?.model.linear !== undefined).toBe(lined);
    }
    const ranges = new CalibratedRanges(set);
    const fresh = syntheticRows(2_000, 2, { start: 1_800_000_000_000 });
    // Coverage varies with the ~720 calibration rows (sd 0.011) and the 2,000 new ones (sd
    // 0.0067): sd 0.013 in all, ±3 sd.
    const coverage = covered(ranges, fresh, false);
    expect(coverage).toBeGreaterThan(0.861);
    expect(coverage).toBeLessThan(0.939);
    // It learned where the noise is: ranges where u is high are much wider than where it is low.
    const at = (u: number) => {
      const features = FEATURE_NAMES.map((_, j) => (j === U ? u : 0.5));
      return ranges.range('latencyP99Ms', 30, features);
    };
    const narrow = at(0.25);
    const wide = at(0.75);
    const truthNarrow = trueP99Range(0.25);
    const truthWide = trueP99Range(0.75);
    expect(wide.high - wide.low).toBeGreaterThan(1.7 * (narrow.high - narrow.low));
    // …and close to the true ranges (within 35% of their widths; the trees blur the edges of u).
    expect(Math.abs(wide.high - wide.low - (truthWide.high - truthWide.low))).toBeLessThan(
      0.35 * (truthWide.high - truthWide.low),
    );
    expect(Math.abs(narrow.high - narrow.low - (truthNarrow.high - truthNarrow.low))).toBeLessThan(
      0.35 * (truthNarrow.high - truthNarrow.low),
    );
    expect(ranges.source('latencyP99Ms')).toBe('learned');
    // Its centre: the median model's correction, inside the range and near the true median
    // 30·e^(0.3u − 0.1) (within 5%).
    for (const u of [0.25, 0.75]) {
      const features = FEATURE_NAMES.map((_, j) => (j === U ? u : 0.5));
      const centre = ranges.centre('latencyP99Ms', 30, features) ?? Number.NaN;
      const range = ranges.range('latencyP99Ms', 30, features);
      expect(centre).toBeGreaterThan(range.low);
      expect(centre).toBeLessThan(range.high);
      expect(Math.abs(centre / (30 * Math.exp(0.3 * u - 0.1)) - 1)).toBeLessThan(0.05);
    }
    expect(
      new CalibratedRanges(null).centre(
        'latencyP99Ms',
        30,
        FEATURE_NAMES.map(() => 0.5),
      ),
    ).toBeNull();
  }, 60_000);

  it("starts each service's adaptive calibration from its own windows held out from fitting", async () => {
    // Two services the features cannot tell apart, one ten times noisier than the other.
    const quiet = syntheticRows(1_500, 11, { noise: 0.3 }).map((r) => ({ ...r, service: 'quiet' }));
    const loud = syntheticRows(1_500, 12, { noise: 3 }).map((r) => ({ ...r, service: 'loud', at: r.at + 1 }));
    const rows = [...quiet, ...loud].sort((a, b) => a.at - b.at);
    const set = await trainModelSet(rows, { now: 0, worker: false });
    if (set === null) throw new Error('no model');
    const pooled = new CalibratedRanges(set);
    const own = new CalibratedRanges(set);
    own.remember(rows);
    const fresh = syntheticRows(1_000, 13, { noise: 0.3, start: 1_800_000_000_000 });
    const width = (ranges: CalibratedRanges): number =>
      fresh.reduce((sum, r) => {
        const range = ranges.range('latencyP99Ms', 30, r.features, 'quiet');
        return sum + range.high - range.low;
      }, 0) / fresh.length;
    expect(width(own)).toBeLessThan(0.6 * width(pooled));
    // …and still holds about 90% of the quiet service's new windows (±3 sd of ~300 held-out rows).
    const inside = fresh.filter((r) => {
      const range = own.range('latencyP99Ms', 30, r.features, 'quiet');
      const y = r.observed.latencyP99Ms ?? Number.NaN;
      return y >= range.low && y <= range.high;
    }).length;
    expect(inside / fresh.length).toBeGreaterThan(0.84);
    expect(inside / fresh.length).toBeLessThan(0.96);
  }, 60_000);

  it("starts a service without its own held-out windows from every service's, after the calibration rows", async () => {
    // The last fifth of the history (held out from fitting) is three times noisier than the rest:
    // the model's calibration rows do not know it, its held-out windows do.
    const calm = syntheticRows(480, 21);
    const loud = syntheticRows(120, 22, { noise: 3, start: 1_700_000_000_000 + 480 * 10_000 });
    const rows = [...calm, ...loud];
    const set = await trainModelSet(rows, { now: 0, worker: false, learnedFrom: 300 });
    if (set === null) throw new Error('no model');
    expect(set.metrics.latencyP99Ms?.validation?.coverage).toBeLessThan(0.8);
    const calibrationOnly = new CalibratedRanges(set);
    const remembered = new CalibratedRanges(set);
    remembered.remember(rows);
    // A service that has not served yet (no held-out windows of its own), as noisy as the latest.
    const fresh = syntheticRows(400, 23, { noise: 3, start: 1_800_000_000_000 }).map((r) => ({
      ...r,
      service: 'newcomer',
    }));
    const before = covered(calibrationOnly, fresh, false);
    const after = covered(remembered, fresh, false);
    // Measured: 0.50 from the calibration scores alone, 0.78 with the held-out ones after them (the
    // calibration rows still count; the service's own misses widen it further as they come).
    expect(after).toBeGreaterThan(before + 0.2);
    expect(after).toBeGreaterThan(0.7);
  }, 60_000);

  it("holds windows without errors: a range at the log scale's floor maps back to 0 exactly", async () => {
    // Errors are rare: most windows have none, one in ten has 1%–3%.
    const rare = (rows: ModelRow[]): ModelRow[] =>
      rows.map((r, i) => ({
        ...r,
        observed: { ...r.observed, errorRate: i % 10 === 0 ? 0.01 * (1 + (i % 3)) : 0 },
      }));
    const set = await trainModelSet(rare(syntheticRows(2_000, 14)), { now: 0, worker: false });
    const fresh = rare(syntheticRows(500, 16, { start: 1_800_000_000_000 }));
    const share = (ranges: CalibratedRanges): number => {
      ranges.remember(rare(syntheticRows(300, 15, { start: 1_750_000_000_000 })));
      let held = 0;
      let none = 0;
      for (const row of fresh) {
        const r = ranges.range('errorRate', 0, row.features, row.service);
        if (row.observed.errorRate === 0) {
          none++;
          if (r.low === 0) held++;
        }
        ranges.observe(row);
      }
      return held / none;
    };
    // The cold start's range is centred on the simulation's 0: it always starts at 0. The learned
    // range's side below is calibrated to miss at most 5%, and windows without errors are the only
    // ones it can miss here (measured: 447 of 450 held).
    expect(share(new CalibratedRanges(null))).toBe(1);
    expect(share(new CalibratedRanges(set))).toBeGreaterThanOrEqual(0.95);
  }, 60_000);

  it('keeps coverage through a shift with adaptive conformal inference, where the static model loses it', async () => {
    const set = await trainModelSet(syntheticRows(2_000, 3), { now: 0, worker: false });
    const shifted = syntheticRows(2_000, 4, { shift: 0.15, noise: 1.5 });
    const staticCoverage = covered(new CalibratedRanges(set), shifted, false);
    const adaptive = covered(new CalibratedRanges(set), shifted, true);
    expect(staticCoverage).toBeLessThan(0.8);
    expect(adaptive).toBeGreaterThan(0.86);
  }, 60_000);

  it('round-trips through JSON and the store, predicting exactly as before, with its calibration state', async () => {
    const set = await trainModelSet(syntheticRows(1_000, 5), { now: 42, worker: false });
    if (set === null) throw new Error('no model');
    const parsed = parseModelSet(JSON.parse(JSON.stringify(set)));
    expect(parsed.ok).toBe(true);
    const store = new SqliteStore(':memory:');
    try {
      const original = new CalibratedRanges(set);
      const stepped = syntheticRows(50, 6);
      for (const row of stepped) original.observe(row);
      await store.saveModelVersion({ id: set.id, createdAt: 42, summary: summarizeModelSet(set), body: set });
      for (const [metric, state] of Object.entries(original.aciStates()))
        await store.saveCalibrationState(metric, set.id, state, 43);
      const loaded = await loadRanges(store);
      expect(loaded.set?.id).toBe(set.id);
      for (const row of syntheticRows(100, 7)) {
        for (const metric of MODEL_METRICS) {
          const a = original.range(metric, row.simulated[metric] ?? 0, row.features, row.service);
          const b = loaded.range(metric, row.simulated[metric] ?? 0, row.features, row.service);
          expect(b).toEqual(a);
        }
      }
      expect((await store.listModelVersions())[0]?.summary).toEqual(summarizeModelSet(set));
      expect(parseModelSet({ ...set, metrics: { latencyP99Ms: { format: 'x' } } }).ok).toBe(false);
      // A later set that takes other features (an older Augur's) is not loaded: cold start.
      const renamed = Object.fromEntries(
        Object.entries(set.metrics).map(([m, v]) => [
          m,
          { ...v, featureNames: v.featureNames.map((n) => `old ${n}`) },
        ]),
      );
      const older = { ...set, id: 's-older', createdAt: 44, metrics: renamed };
      await store.saveModelVersion({
        id: older.id,
        createdAt: 44,
        summary: summarizeModelSet(older),
        body: older,
      });
      expect(takesTodaysFeatures(older)).toBe(false);
      expect(takesTodaysFeatures(set)).toBe(true);
      expect((await loadRanges(store)).set).toBeNull();
    } finally {
      await store.close();
    }
  }, 60_000);

  it('starts cold: widened simulation ranges, then conformal ones from the simulation’s own errors; no model under 500 rows', async () => {
    expect(await trainModelSet(syntheticRows(400, 8), { now: 0, worker: false })).toBeNull();
    const cold = new CalibratedRanges(null);
    expect(cold.source('latencyP99Ms')).toBe('simulation-widened');
    expect(cold.range('latencyP99Ms', 30, [])).toMatchObject({
      low: 15,
      high: 60,
      source: 'simulation-widened',
    });
    // Error rates: ±1% around the simulated rate, on the rate itself (not stretched on a log scale).
    const errors = cold.range('errorRate', 0.007, []);
    expect(errors.source).toBe('simulation-widened');
    expect(errors.low).toBe(0);
    expect(errors.high).toBeCloseTo(0.017, 12);
    const past = syntheticRows(400, 9);
    cold.remember(past);
    expect(cold.source('latencyP99Ms')).toBe('simulation-conformal');
    const r = cold.range('latencyP99Ms', 30, []);
    expect(r.source).toBe('simulation-conformal');
    // Honest: it holds about 90% of windows like those it learned from (no model, no features).
    const inside = syntheticRows(1_000, 10).filter((row) => {
      const y = row.observed.latencyP99Ms ?? 0;
      return y >= r.low && y <= r.high;
    }).length;
    expect(inside / 1_000).toBeGreaterThan(0.86);
  });
});
