import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, type ModelRow, NO_RECENT, recentFeatures, targetOf } from './features.js';
import { RECENT_OWN_FROM, RECENT_ROWS, RECENT_SPAN_MS, RecentResiduals } from './recent.js';

const T0 = 1_800_000_000_000;
const MINUTE = 60_000;

/** A window whose p99 came out `ratio` × the simulation's and whose errors were `errors` of 1,000. */
function row(service: string, revision: string, minute: number, ratio: number, errors = 0): ModelRow {
  return {
    service,
    revision,
    at: T0 + minute * MINUTE,
    windowMs: MINUTE,
    requests: 1_000,
    features: [],
    simulated: { latencyP50Ms: 10, latencyP95Ms: 20, latencyP99Ms: 40, errorRate: 0, cpuCores: null },
    observed: {
      latencyP50Ms: 10,
      latencyP95Ms: 20,
      latencyP99Ms: 40 * ratio,
      errorRate: errors / 1_000,
      cpuCores: 0.2,
    },
  };
}

describe('the recent record', () => {
  it('has nothing for a service never seen, and features of zeros for it', () => {
    const memory = new RecentResiduals();
    expect(memory.record('cart', 'v1', T0)).toEqual(NO_RECENT);
    const features = recentFeatures(NO_RECENT);
    expect(features).toHaveLength(FEATURE_NAMES.length - FEATURE_NAMES.indexOf('recentWindows'));
    expect(features.every((f) => f === 0)).toBe(true);
  });

  it("summarises a revision's windows before the time asked: median, quartile spread, newest", () => {
    const memory = new RecentResiduals();
    const ratios = [1, 2, 4, 8, 1.5];
    ratios.forEach((r, i) => memory.add(row('cart', 'v1', i, r, i)));
    // Asked at minute 4, the window of minute 4 (and anything later) is not yet known.
    const record = memory.record('cart', 'v1', T0 + 4 * MINUTE);
    expect(record.windows).toBe(4);
    expect(record.own).toBe(true);
    const p99 = record.figures.latencyP99Ms;
    expect(p99.level).toBeCloseTo(1.5 * Math.LN2, 12);
    expect(p99.last).toBeCloseTo(Math.log(8), 12);
    // Quartiles of ln 1, ln 2, ln 4, ln 8 by interpolation: ln 2·0.75 and ln 2·2.25.
    expect(p99.spread).toBeCloseTo(Math.LN2 * 1.5, 12);
    // Errors: the median window's, as for latency (0, 1, 2 and 3 errors of 1,000).
    const at = (rate: number): number => targetOf('errorRate', 0, rate) ?? Number.NaN;
    expect(record.figures.errorRate.level).toBeCloseTo((at(0.001) + at(0.002)) / 2, 12);
    // CPU had no simulated value: nothing is known of its ratio.
    expect(record.figures.cpuCores).toEqual({ level: 0, spread: 0, last: 0 });
  });

  it('is not held up by a burst of errors: the level is the median window, the newest shows it', () => {
    const memory = new RecentResiduals();
    for (let m = 0; m < 8; m++) memory.add(row('cart', 'v1', m, 1, m === 6 ? 400 : 0));
    const record = memory.record('cart', 'v1', T0 + 7 * MINUTE);
    expect(record.figures.errorRate.level).toBeCloseTo(targetOf('errorRate', 0, 0) ?? Number.NaN, 12);
    expect(record.figures.errorRate.last).toBeCloseTo(targetOf('errorRate', 0, 0.4) ?? Number.NaN, 12);
  });

  it("gives a new revision its service's record until it has windows of its own", () => {
    const memory = new RecentResiduals();
    for (let m = 0; m < 10; m++) memory.add(row('cart', 'v1', m, 2));
    const fresh = memory.record('cart', 'v2', T0 + 10 * MINUTE);
    expect(fresh.own).toBe(false);
    expect(fresh.windows).toBe(10);
    expect(fresh.figures.latencyP99Ms.level).toBeCloseTo(Math.LN2, 12);
    for (let m = 10; m < 10 + RECENT_OWN_FROM; m++) memory.add(row('cart', 'v2', m, 4));
    const own = memory.record('cart', 'v2', T0 + 20 * MINUTE);
    expect(own.own).toBe(true);
    expect(own.windows).toBe(RECENT_OWN_FROM);
    expect(own.figures.latencyP99Ms.level).toBeCloseTo(Math.log(4), 12);
    // Another service's windows never count.
    expect(memory.record('catalog', 'v2', T0 + 20 * MINUTE)).toEqual(NO_RECENT);
  });

  it('forgets windows older than its span and summarises at most its newest windows', () => {
    const memory = new RecentResiduals();
    const spanMinutes = RECENT_SPAN_MS / MINUTE;
    memory.add(row('cart', 'v1', 0, 8));
    for (let m = 1; m <= RECENT_ROWS + 5; m++) memory.add(row('cart', 'v1', m, 1));
    const record = memory.record('cart', 'v1', T0 + (RECENT_ROWS + 6) * MINUTE);
    expect(record.windows).toBe(RECENT_ROWS);
    expect(record.figures.latencyP99Ms.level).toBe(0);
    const later = memory.record('cart', 'v1', T0 + (spanMinutes + RECENT_ROWS + 10) * MINUTE);
    expect(later).toEqual(NO_RECENT);
  });
});
