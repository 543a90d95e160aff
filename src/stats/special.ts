/**
 * Special functions the e-processes need, in log space so that likelihood ratios over millions of
 * requests neither overflow nor underflow. Checked against SciPy in special.test.ts.
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

// Lanczos approximation (g = 7, n = 9): about 1e-15 relative error for x ≥ 0.5.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  // Reflection keeps the Lanczos sum in its accurate range.
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  if (x >= 10) return stirling(x) + logGammaCorrection(x);
  const z = x - 1;
  let sum = LANCZOS[0] ?? 1;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] ?? 0) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

function stirling(x: number): number {
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI;
}

/**
 * ln Γ(x) minus its Stirling approximation, for x ≥ 10. Kept separate because ln B(a, b) with a large
 * argument subtracts nearly equal ln Γ values; combining the corrections avoids that cancellation.
 */
function logGammaCorrection(x: number): number {
  const inv = 1 / x;
  const inv2 = inv * inv;
  // Stirling series; the next term is below 1e-16 for x ≥ 10.
  return inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 / 1188))));
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), accurate when one argument dwarfs the other. */
export function logBeta(a: number, b: number): number {
  if (!(a > 0 && b > 0)) return Number.NaN;
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  const s = p + q;
  if (p >= 10) {
    const corr = logGammaCorrection(p) + logGammaCorrection(q) - logGammaCorrection(s);
    return -0.5 * Math.log(q) + HALF_LOG_2PI + corr + (p - 0.5) * Math.log(p / s) + q * Math.log1p(-p / s);
  }
  if (q >= 10) {
    const corr = logGammaCorrection(q) - logGammaCorrection(s);
    return logGamma(p) + corr + p - p * Math.log(s) + (q - 0.5) * Math.log1p(-p / s);
  }
  return logGamma(p) + logGamma(q) - logGamma(s);
}

/** ln Σ exp(xᵢ), without overflow; −∞ for an empty list. */
export function logSumExp(xs: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > max) max = x;
  if (max === Number.NEGATIVE_INFINITY || !Number.isFinite(max)) return max;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum);
}

/** ln C(n, k) for real n ≥ k ≥ 0. */
export function logChoose(n: number, k: number): number {
  if (k === 0 || k === n) return 0;
  return -Math.log(n + 1) - logBeta(n - k + 1, k + 1);
}

/** ln P(K = k) for K ~ Binomial(n, p), 0 < p < 1. */
export function binomialLogPmf(k: number, n: number, p: number): number {
  return logChoose(n, k) + xLogY(k, p) + xLogY(n - k, 1 - p);
}

/** x·ln y with 0·ln 0 = 0, the convention likelihoods need. */
export function xLogY(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/**
 * ln(1 − I_x(a, b)), the log upper tail of the regularised incomplete beta function. Evaluated
 * directly on whichever side converges, so a tail near 0 keeps its relative precision.
 */
export function logBetaUpperTail(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return Number.NEGATIVE_INFINITY;
  // I_x(a,b) = 1 − I_{1−x}(b,a); the continued fraction converges fast for x < (a+1)/(a+b+2).
  if (x > (a + 1) / (a + b + 2)) return logIncompleteBetaCf(1 - x, b, a);
  return Math.log1p(-Math.exp(logIncompleteBetaCf(x, a, b)));
}

/** ln I_x(a, b) by Lentz's continued fraction; accurate when x < (a+1)/(a+b+2). */
function logIncompleteBetaCf(x: number, a: number, b: number): number {
  const front = a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b) - Math.log(a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return front + Math.log(f);
}

/**
 * Φ(x), the standard normal distribution function, from the Chebyshev-fitted erfc of Numerical
 * Recipes (relative error < 1.2e-7): enough for choosing designs, not for e-values.
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(-z * z + poly);
  return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}
