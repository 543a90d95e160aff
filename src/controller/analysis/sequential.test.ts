import { describe, expect, it } from 'vitest';
import type { ApplicationConfig, ReleaseConfig } from '../../config/types.js';
import { SeededRandom } from '../../core/random.js';
import type { Random } from '../../core/random.js';
import { sampleBinomial } from '../../stats/simulate.js';
import { weightApplied, promotionApplied } from '../core/commands.js';
import type { Observation } from '../core/observation.js';
import type { Step } from '../core/release.js';
import { createRelease, releasePhase } from '../core/release.js';
import { tick } from '../core/tick.js';
import type { ReleasePhase, ReleaseState } from '../core/types.js';
import { sequentialAnalysis } from './sequential.js';

const app = {
  name: 'shop',
  services: { cart: { name: 'cart', stable: 'v1', limits: { errorRate: 0.01, latencyP99Ms: 250 } } },
} as unknown as ApplicationConfig;

const release: ReleaseConfig = {
  name: 'r',
  application: 'shop',
  changes: [{ service: 'cart', revision: 'v2' }],
  tiers: [1, 5, 25, 50, 100],
  bake: { minDurationMs: 30_000, minRequests: 50 },
  monitoring: { intervalMs: 10_000, warningIntervalMs: 1_000 },
  risk: { low: 0.1, high: 0.5 },
  alpha: 0.01,
  mitigations: [],
  source: 'r.yaml',
};

function settle(step: Step, now: number): ReleaseState {
  let state = step.state;
  for (const a of step.actions) {
    if (a.type === 'set-weight') state = weightApplied(state, a.service, a.weight, now).state;
    if (a.type === 'make-stable') state = promotionApplied(state, a.service, now).state;
  }
  return state;
}

/** One simulated rollout at `rps` requests/s: canary and stable error and slow rates as given. */
function simulate(
  random: Random,
  canary: { errors: number; slow: number },
  rps = 100,
): { phase: ReleasePhase; tier: number } {
  const analysis = sequentialAnalysis(app, release);
  let now = 0;
  let state = settle(createRelease(release, app, analysis, now), now);
  for (let i = 0; i < 2_000 && releasePhase(state) === 'running'; i++) {
    const from = now;
    now += 10_000;
    const weight = state.tracks[0]?.appliedWeight ?? 0;
    const total = rps * 10;
    const canaryRequests = sampleBinomial(random, total, weight / 10_000);
    const stableRequests = total - canaryRequests;
    const window = (requests: number, rates: { errors: number; slow: number }) => ({
      requests,
      errors: sampleBinomial(random, requests, rates.errors),
      slow: sampleBinomial(random, requests, rates.slow),
      latencyP99Ms: 100,
      cpuCores: null,
      cpuCapacity: null,
    });
    const o: Observation = {
      service: 'cart',
      from,
      to: now,
      weight,
      canary: window(canaryRequests, canary),
      stable: window(stableRequests, { errors: 0.005, slow: 0.002 }),
      crashLoop: false,
      risk: null,
      predicted: null,
    };
    state = settle(tick(state, [o], analysis, now), now);
  }
  const track = state.tracks[0];
  return { phase: releasePhase(state), tier: track?.tiers[track.tierIndex]?.share ?? 0 };
}

describe('sequential analysis through the decision core', () => {
  it('A/A: healthy canaries are rolled back no more often than alpha', () => {
    const random = new SeededRandom(7);
    const runs = 1_000;
    let rolledBack = 0;
    let promoted = 0;
    for (let i = 0; i < runs; i++) {
      const { phase } = simulate(random, { errors: 0.005, slow: 0.002 });
      if (phase === 'rolled-back') rolledBack++;
      if (phase === 'promoted') promoted++;
    }
    const slack = 3 * Math.sqrt((release.alpha * (1 - release.alpha)) / runs);
    expect(rolledBack / runs).toBeLessThanOrEqual(release.alpha + slack);
    expect(promoted / runs).toBeGreaterThan(0.95);
  }, 60_000);

  it('rolls back a canary with 5% errors (10× the stable) by the 25% tier, nearly always', () => {
    const random = new SeededRandom(11);
    const results = Array.from({ length: 200 }, () => simulate(random, { errors: 0.05, slow: 0.002 }));
    const caught = results.filter((r) => r.phase === 'rolled-back');
    expect(caught.length / results.length).toBeGreaterThan(0.97);
    expect(caught.filter((r) => r.tier <= 25).length / caught.length).toBeGreaterThan(0.9);
  }, 60_000);

  it('rolls back a canary whose p99 breaches the latency limit', () => {
    const random = new SeededRandom(13);
    const results = Array.from({ length: 100 }, () => simulate(random, { errors: 0.005, slow: 0.05 }));
    expect(results.filter((r) => r.phase === 'rolled-back').length).toBeGreaterThan(95);
  }, 60_000);
});
