import { klLogNormalRatio, klRelativeRate, sprtExpectedSamples } from '../../stats/sprt.js';
import type { BenchCase } from './scenario.js';
import { ALPHA, BAKE_S, BASE_ERROR_RATE, BETA, RATE } from './scenario.js';

/**
 * Wald's SPRT as the yardstick, in canary requests: the fewest a test with the same α and β needs
 * on average (Wald–Wolfowitz), knowing the effect exactly. It compares the canary with the stable
 * as the product must (the stable's own rates are not known in advance):
 * - errors: each error's origin given the total, at the canary's share ρ (reference.md §2: 2× at
 *   equal shares ≈ 74 error events), converted to canary requests by the errors per canary
 *   request, p_c + p_s(1 − ρ)/ρ;
 * - latency: a normal shift ln R of log-latency with known σ between the two samples, whose
 *   information per canary request is (ln R)²(1 − ρ)/(2σ²) (per pair at ρ = ½: 460 pairs for +10%
 *   at σ 0.5).
 * Returns null for A/A rows (no alternative).
 */
export function klPerCanaryRequest(c: BenchCase, share: number): number | null {
  const { errorRatio, latencyRatio, sigmaLog } = c.effect;
  if (share <= 0 || share >= 1) return 0;
  if (errorRatio !== 1) {
    const pc = BASE_ERROR_RATE * errorRatio;
    const eventsPerCanaryRequest = pc + (BASE_ERROR_RATE * (1 - share)) / share;
    return klRelativeRate(share, errorRatio) * eventsPerCanaryRequest;
  }
  if (latencyRatio !== 1 && sigmaLog !== null) {
    return klLogNormalRatio(latencyRatio, sigmaLog, 'observation') * (1 - share);
  }
  return null;
}

/**
 * Oracle samples for a case. Held tier: Wald's E₁[N] at that share. Rollout: the evidence the SPRT
 * needs, ((1 − β)·a + β·b) nats, collected along the nominal schedule (each tier for one bake, the
 * last tier below 100% held on, since a two-sample comparison learns nothing at 100%): by Wald's
 * identity the expected log-likelihood ratio at the stopping time equals that evidence. Null when
 * there is no alternative. `alpha` other than the release's: the same oracle at one test's level.
 */
export function oracleSamples(c: BenchCase, alpha = ALPHA): number | null {
  const { plan } = c;
  const first = plan.tiers[0] ?? 100;
  if (plan.kind === 'held') {
    const kl = klPerCanaryRequest(c, first / 100);
    return kl === null ? null : sprtExpectedSamples({ alpha, beta: BETA, kl });
  }
  const needed = sprtExpectedSamples({ alpha, beta: BETA, kl: 1 });
  const shares = plan.tiers.filter((t) => t < 100).map((t) => t / 100);
  let evidence = 0;
  let samples = 0;
  for (const [i, share] of shares.entries()) {
    const kl = klPerCanaryRequest(c, share);
    if (kl === null) return null;
    const perSecond = RATE * share;
    const last = i === shares.length - 1;
    const tierSamples = last ? Number.POSITIVE_INFINITY : perSecond * BAKE_S;
    const toGo = (needed - evidence) / kl;
    if (toGo <= tierSamples) return samples + toGo;
    evidence += kl * tierSamples;
    samples += tierSamples;
  }
  return null;
}
