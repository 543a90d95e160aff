import { normalQuantile } from './normal.js';

/**
 * Kayenta's Mann–Whitney shift (kayenta-mannwhitney, ported from R's wilcox.test, asymptotic,
 * two-sided, continuity correction, tie correction): the confidence interval and Hodges–Lehmann
 * estimate of μ in "experiment − μ is distributed as control", found as the roots of the
 * standardised rank statistic in μ. Kayenta uses Brent's method with tolerance 1e-4; the statistic
 * is a monotone step function of μ, so bisection finds the same jumps (more precisely).
 */
export interface ShiftInterval {
  readonly lower: number;
  readonly upper: number;
  readonly estimate: number;
}

const BISECTIONS = 60;

/** `experiment` and `control` sorted ascending, each non-empty. */
export function mannWhitneyShift(
  experiment: Float64Array,
  control: Float64Array,
  confidence: number,
): ShiftInterval {
  const x = experiment;
  const y = control;
  const muMin = (x[0] ?? 0) - (y[y.length - 1] ?? 0);
  const muMax = (x[x.length - 1] ?? 0) - (y[0] ?? 0);
  const z = -normalQuantile((1 - confidence) / 2);
  const root = (q: number): number => {
    const f = (mu: number): number => standardised(x, y, mu) - q;
    if (f(muMin) <= 0) return muMin;
    if (f(muMax) >= 0) return muMax;
    let lo = muMin;
    let hi = muMax;
    for (let i = 0; i < BISECTIONS && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) > 0) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  return { lower: root(z), upper: root(-z), estimate: root(0) };
}

/**
 * (W − nₓn_y/2 − ½·sign) / σ for the ranks of x − μ among x − μ and y, with average ranks for ties
 * and σ corrected for them. One merge of the two sorted lists: O(nₓ + n_y).
 */
function standardised(x: Float64Array, y: Float64Array, mu: number): number {
  const nx = x.length;
  const ny = y.length;
  let i = 0;
  let j = 0;
  let below = 0; // y values already passed (strictly below the current value)
  let u = 0;
  let ties = 0;
  while (i < nx || j < ny) {
    const xv = i < nx ? (x[i] ?? 0) - mu : Number.POSITIVE_INFINITY;
    const yv = j < ny ? (y[j] ?? 0) : Number.POSITIVE_INFINITY;
    const v = Math.min(xv, yv);
    let cx = 0;
    let cy = 0;
    while (i < nx && (x[i] ?? 0) - mu === v) {
      cx++;
      i++;
    }
    while (j < ny && y[j] === v) {
      cy++;
      j++;
    }
    u += cx * below + 0.5 * cx * cy;
    below += cy;
    const t = cx + cy;
    if (t > 1) ties += t * t * t - t;
  }
  const dz = u - (nx * ny) / 2;
  const n = nx + ny;
  const sigma = Math.sqrt(((nx * ny) / 12) * (n + 1 - ties / (n * (n - 1))));
  if (!(sigma > 0)) return 0;
  return (dz - Math.sign(dz) * 0.5) / sigma;
}
