import { logChoose } from './special.js';

/**
 * Fisher's noncentral hypergeometric distribution: two groups of n₁ and n₂ trials with m successes
 * between them; X, the first group's successes, has P(X = x) ∝ C(n₁,x)·C(n₂,m−x)·ψˣ, where ψ is the
 * odds ratio of success between the groups. Conditioning a 2×2 table on its margins removes the
 * unknown common rate: under ψ = 1 the law of X is known exactly.
 */
export interface Margins {
  /** Trials in the first group (the canary). */
  readonly n1: number;
  /** Trials in the second group (the stable). */
  readonly n2: number;
  /** Successes in both groups together. */
  readonly m: number;
}

/** Support of X: [max(0, m − n₂), min(n₁, m)]. */
export function support({ n1, n2, m }: Margins): { lo: number; hi: number } {
  return { lo: Math.max(0, m - n2), hi: Math.min(n1, m) };
}

/**
 * ln Σₓ C(n₁,x)·C(n₂,m−x)·ψˣ. Sums outwards from the mode, where the log-concave terms peak,
 * until the terms no longer change the sum: O(standard deviation) terms, not O(m).
 */
export function logNormaliser(margins: Margins, psi: number): number {
  const { n1, n2, m } = margins;
  const { lo, hi } = support(margins);
  if (lo === hi) return logTerm(margins, lo, psi);
  const start = Math.min(hi, Math.max(lo, Math.round(approximateMean(margins, psi))));
  // term(x + 1) / term(x)
  const ratioUp = (x: number): number => (psi * (n1 - x) * (m - x)) / ((x + 1) * (n2 - m + x + 1));
  let sum = 1;
  let term = 1;
  for (let x = start; x < hi; x++) {
    term *= ratioUp(x);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  term = 1;
  for (let x = start; x > lo; x--) {
    term /= ratioUp(x - 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return logTerm(margins, start, psi) + Math.log(sum);
}

function logTerm({ n1, n2, m }: Margins, x: number, psi: number): number {
  return logChoose(n1, x) + logChoose(n2, m - x) + x * Math.log(psi);
}

/** The root of x(n₂ − m + x) = ψ(n₁ − x)(m − x): the large-sample mean, close to the mode. */
function approximateMean({ n1, n2, m }: Margins, psi: number): number {
  if (Math.abs(psi - 1) < 1e-12) return (n1 * m) / (n1 + n2);
  const a = 1 - psi;
  const b = n2 - m + psi * (n1 + m);
  const c = -psi * n1 * m;
  // The root in [0, min(n₁, m)], written to avoid cancellation when a is small.
  return (2 * c) / (-b - Math.sqrt(b * b - 4 * a * c));
}

/**
 * ln of P_ψ(X = x) / P_ψ₀(X = x) for an observed table: the conditional likelihood ratio of odds
 * ratio ψ against ψ₀. ln LR is increasing in x when ψ > ψ₀, which makes the family monotone and the
 * one-sided null "odds ratio ≤ ψ₀" as easy to test as its boundary.
 */
export function conditionalLogLikelihoodRatio(
  margins: Margins,
  x: number,
  psi: number,
  psi0: number,
): number {
  const { lo, hi } = support(margins);
  if (lo === hi) return 0;
  return x * Math.log(psi / psi0) - logNormaliser(margins, psi) + logNormaliser(margins, psi0);
}
