import { canaryEventProbability } from './rate-ratio.js';
import { logBeta, logBetaUpperTail, logGamma, xLogY } from './special.js';

/**
 * The count-data e-process of Lindon & Malek (2022), as Netflix runs it for canaries: with cell
 * probabilities fixed at the traffic shares ρ under the null and a Dirichlet(α₀ = k·ρ) mixture over
 * the alternatives, the Bayes factor
 *   BFₙ = [B(α₀ + n) / B(α₀)] / ∏ ρᵢ^nᵢ
 * is a test martingale for any number of cells (revisions). It is two-sided and needs the shares
 * fixed; the controller's comparison (rate-ratio.ts) is one-sided and lets the share change per
 * tier. Kept as the reference that comparison is measured against, and for comparisons across more
 * than two revisions at fixed shares.
 */
export function dirichletMultinomialLogBF(
  counts: readonly number[],
  shares: readonly number[],
  concentration: number,
): number {
  if (counts.length !== shares.length || counts.length < 2) {
    throw new RangeError('need one share per count, at least two cells');
  }
  if (!(concentration > 0)) throw new RangeError('concentration must be > 0');
  const prior = shares.map((rho) => concentration * rho);
  const posterior = prior.map((a, i) => a + (counts[i] ?? 0));
  let nullLog = 0;
  counts.forEach((n, i) => (nullLog += xLogY(n, shares[i] ?? 0)));
  return logMultivariateBeta(posterior) - logMultivariateBeta(prior) - nullLog;
}

/** ln B(a) = Σ ln Γ(aᵢ) − ln Γ(Σ aᵢ); the two-cell case through logBeta for its accuracy. */
export function logMultivariateBeta(a: readonly number[]): number {
  if (a.length === 2) return logBeta(a[0] ?? Number.NaN, a[1] ?? Number.NaN);
  let sum = 0;
  let logs = 0;
  for (const x of a) {
    sum += x;
    logs += logGamma(x);
  }
  return logs - logGamma(sum);
}

/**
 * The two-cell Bayes factor made one-sided: the Beta(k·θ₀, k·(1 − θ₀)) prior on θ, the probability
 * that an event came from the canary, truncated to θ > θ₀, where θ₀ is that probability when the
 * canary's rate is `tolerance` × the stable's. Every alternative in the mixture says "worse", so
 * the Bayes factor is a supermartingale under any θ ≤ θ₀:
 *   BF = [B(a+c, b+s)·(1 − I_θ₀(a+c, b+s))] / [B(a, b)·(1 − I_θ₀(a, b))] / (θ₀^c (1 − θ₀)^s).
 */
export function oneSidedBetaLogBF(options: {
  readonly canary: number;
  readonly stable: number;
  readonly canaryShare: number;
  readonly concentration: number;
  readonly tolerance?: number;
}): number {
  const { canary: c, stable: s, concentration: k } = options;
  const theta0 = canaryEventProbability(options.canaryShare, options.tolerance ?? 1);
  if (!(theta0 > 0 && theta0 < 1)) throw new RangeError('canaryShare must be in (0, 1)');
  const a = k * theta0;
  const b = k * (1 - theta0);
  return (
    logBeta(a + c, b + s) -
    logBeta(a, b) +
    logBetaUpperTail(theta0, a + c, b + s) -
    logBetaUpperTail(theta0, a, b) -
    xLogY(c, theta0) -
    xLogY(s, 1 - theta0)
  );
}
