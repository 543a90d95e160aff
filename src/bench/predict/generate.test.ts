import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../calibration/features.js';
import { generateHistory } from './generate.js';
import { BENCH_WORLD, HISTORY_START, HOUR_MS } from './world.js';
import type { WorldOptions } from './world.js';

/** A small world: 1 day, 2 services, one window every 30 min, shifted for its last 6 hours. */
const SMALL: WorldOptions = {
  ...BENCH_WORLD,
  days: 1,
  services: 2,
  cadenceMs: 30 * 60_000,
  shiftFrom: HISTORY_START + 18 * HOUR_MS,
};

describe('generateHistory', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateHistory(SMALL);
    const b = generateHistory(SMALL);
    expect(a.rows.length).toBe(48 * 2);
    expect(b).toEqual(a);
    const c = generateHistory({ ...SMALL, seed: SMALL.seed + 1 });
    expect(c.rows.map((r) => r.observed)).not.toEqual(a.rows.map((r) => r.observed));
  });

  it('gives self-consistent, finite rows in time order', () => {
    const history = generateHistory(SMALL);
    let last = -Infinity;
    for (const [i, row] of history.rows.entries()) {
      expect(row.at).toBeGreaterThan(last);
      last = row.at;
      expect(row.features).toHaveLength(FEATURE_NAMES.length);
      expect(row.features.every(Number.isFinite)).toBe(true);
      expect(row.requests).toBeGreaterThan(0);
      const { latencyP50Ms: p50, latencyP95Ms: p95, latencyP99Ms: p99, errorRate, cpuCores } = row.observed;
      if (p50 === null || p95 === null || p99 === null || errorRate === null || cpuCores === null)
        throw new Error(`row ${i} lacks an observed value`);
      expect(p50).toBeGreaterThan(0);
      expect(p50).toBeLessThanOrEqual(p95);
      expect(p95).toBeLessThanOrEqual(p99);
      expect(errorRate).toBeGreaterThanOrEqual(0);
      expect(errorRate).toBeLessThanOrEqual(1);
      expect(cpuCores).toBeGreaterThan(0);
      const sim = row.simulated;
      expect(sim.latencyP50Ms).toBeGreaterThan(0);
      expect(sim.latencyP50Ms ?? 0).toBeLessThanOrEqual(sim.latencyP95Ms ?? 0);
      expect(history.truth[i]?.shifted).toBe(row.at >= (SMALL.shiftFrom ?? Infinity));
    }
  });
});
