import { describe, expect, it } from 'vitest';
import { CalibratedRanges, trainModelSet } from '../calibration/model-set.js';
import { syntheticRows } from '../calibration/test-rows.js';
import { loadConfiguration } from '../config/index.js';
import type { DeploymentConfiguration } from '../config/types.js';
import type { ServiceProfile } from '../sim/profile.js';
import { predictRelease, weightedQuantile } from './predict.js';
import { lognormalSummary } from './profiles.js';

async function shop(release: string): Promise<DeploymentConfiguration> {
  const loaded = await loadConfiguration([
    'examples/shop/augur.yaml',
    `examples/shop/releases/${release}.yaml`,
  ]);
  if (!loaded.ok) throw new Error('shop config invalid');
  return loaded.value;
}

/** What the sandbox measures for the shop's revisions (CPU ≈ WORK_MS × multiplier + 0.7 ms). */
function profile(service: string, revision: string, medianMs: number, cpuMs: number): ServiceProfile {
  return {
    service,
    revision,
    serviceTime: { kind: 'lognormal', medianMs, sigma: 0.4 },
    serviceTimeMs: lognormalSummary(medianMs, 0.4),
    errorProbability: 0,
    cpuMsPerRequest: cpuMs,
    memoryGrowthMbPer1k: 0,
    requests: 1000,
    source: 'sandbox',
  };
}

const profiles = [
  profile('frontend', 'v1', 1.5, 1.2),
  profile('catalog', 'v1', 1.2, 1),
  profile('payments', 'v1', 1.5, 1.2),
  profile('cart', 'v1', 2.7, 2.7),
  profile('cart', 'v2', 1.7, 1.7),
  profile('cart', 'v3', 6, 6),
];

const options = { profiles, defaultRatePerSec: 50, seeds: 2, durationSec: 40 } as const;

describe('predictRelease', () => {
  it('names cart v3 saturating its CPU at the 100% tier, with a high risk', async () => {
    const config = await shop('cart-v3');
    const release = config.releases[0]!;
    const result = await predictRelease(config.application, release, options);
    expect(result.breachTier).toBe(100);
    expect(result.riskScore).toBeGreaterThan(release.risk.high);
    expect(result.culprits).toEqual(['cart']);
    const saturation = result.failurePoints.find((p) => p.kind === 'cpu-saturation' && p.service === 'cart');
    expect(saturation).toMatchObject({ revision: 'v3', tier: 100, scenario: 'nominal' });
    // 50 req/s × 6 ms over 2 × 0.13 cores = 1.15 of the allocation: saturates at 1 / 1.15 ≈ 0.87×.
    expect(saturation?.loadMultiple).toBeGreaterThan(0.75);
    expect(saturation?.loadMultiple).toBeLessThan(0.95);
    expect(result.summary).toMatch(/cart v3 .*100% tier/);
    const cpu = result.ranges.find(
      (r) => r.service === 'cart' && r.metric === 'cpuUtilisation' && r.tier === 50,
    );
    // At 50%: 0.58 of the allocation nominally; the 90% range reaches the peak and spike scenarios.
    expect(cpu?.low).toBeGreaterThan(0.45);
    expect(cpu?.high).toBeLessThan(1);
    expect(result.provenance.history).toBeNull();
    expect(result.provenance.profiles.find((p) => p.service === 'cart' && p.revision === 'v3')?.source).toBe(
      'sandbox',
    );
  });

  it('sees no breach for cart v2 under nominal load, a low risk, and the same result for the same seed', async () => {
    const config = await shop('cart-v2');
    const release = config.releases[0]!;
    const a = await predictRelease(config.application, release, options);
    expect(a.breachTier).toBeNull();
    expect(a.riskScore).toBeLessThanOrEqual(release.risk.low);
    // Only the scenarios that break the shop with or without the release breach: no culprit.
    expect(a.culprits).toEqual([]);
    expect(a.scenarios.find((s) => s.name === 'nominal')?.breachProbability).toBe(0);
    // A dependency failing breaks the shop with or without the release: reported, not the release's risk.
    expect(a.failurePoints.some((p) => p.kind === 'cascade' && p.scenario === 'down:payments')).toBe(true);
    const b = await predictRelease(config.application, release, { ...options, workers: 1 });
    expect(b).toEqual(a);
  });

  it('puts ranges through the model and judges limits on what it expects production to show', async () => {
    const config = await shop('cart-v2');
    const release = config.releases[0]!;
    // Production, as this model learned it, uses e^1 ≈ 2.7 × the simulated CPU and latency.
    const set = await trainModelSet(syntheticRows(600, 31, { shift: 1 }), { now: 0, worker: false });
    const learned = await predictRelease(config.application, release, {
      ...options,
      calibration: new CalibratedRanges(set),
    });
    expect(learned.modelVersion).toBe(set?.id);
    const cpu = learned.ranges.find(
      (r) => r.service === 'cart' && r.metric === 'cpuUtilisation' && r.tier === 100,
    );
    expect(cpu?.source).toBe('learned');
    expect(cpu?.low).toBeGreaterThan(2 * (cpu?.simulated?.low ?? Infinity));
    // cart v2 at 100%: ~35% of its CPU simulated, over 100% corrected: over the 85% limit in every run…
    expect(cpu?.breachProbability).toBe(1);
    // …but cart v1 would be too (the baseline, corrected alike): the breach is not the release's.
    expect(learned.breachTier).toBeNull();
    expect(learned.riskScore).toBeLessThanOrEqual(release.risk.low);
    // Before a model exists, the ranges are widened, the judgement the simulation's own.
    const cold = await predictRelease(config.application, release, {
      ...options,
      calibration: new CalibratedRanges(null),
    });
    expect(cold.ranges.every((r) => r.source === 'simulation-widened')).toBe(true);
    expect(
      cold.ranges.find((r) => r.service === 'cart' && r.metric === 'cpuUtilisation' && r.tier === 100)
        ?.breachProbability,
    ).toBe(0);
    expect(cold.breachTier).toBeNull();
    expect(cold.modelVersion).toBe('sim-1');
  });

  it('computes weighted quantiles', () => {
    const values = [1, 2, 3, 4].map((value) => ({ value, weight: value === 4 ? 3 : 1 }));
    expect(weightedQuantile(values, 0.05)).toBe(1);
    expect(weightedQuantile(values, 0.5)).toBe(3);
    expect(weightedQuantile(values, 0.6)).toBe(4);
    expect(weightedQuantile([], 0.5)).toBeNaN();
  });
});
