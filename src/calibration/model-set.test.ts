import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { FEATURE_NAMES, MODEL_METRICS, buildFeatures, metricRange, targetOf } from './features.js';
import { CalibratedRanges, parseModelSet, summarizeModelSet, trainModelSet } from './model-set.js';
import { loadRanges } from './service.js';
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
  it('learns ratios for latency and CPU, the plain rate for errors, and maps ranges back', () => {
    expect(targetOf('latencyP99Ms', 20, 40)).toBeCloseTo(Math.log(2), 12);
    expect(targetOf('errorRate', 0, 0.03)).toBe(0.03);
    expect(targetOf('cpuCores', null, 0.1)).toBeNull();
    expect(targetOf('latencyP50Ms', 10, null)).toBeNull();
    expect(metricRange('latencyP99Ms', 20, { low: -Math.LN2, high: Math.LN2 })).toEqual({
      low: 10,
      high: 40,
    });
    expect(metricRange('errorRate', 0, { low: -0.1, high: 1.5 })).toEqual({ low: 0, high: 1 });
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
    const ranges = new CalibratedRanges(set);
    const fresh = syntheticRows(2_000, 2, { start: 1_800_000_000_000 });
    // sd of a coverage over 2,000 points at 90% is 0.0067: ±3 sd.
    const coverage = covered(ranges, fresh, false);
    expect(coverage).toBeGreaterThan(0.88);
    expect(coverage).toBeLessThan(0.92);
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
