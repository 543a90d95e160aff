import { SeededRandom } from '../../core/random.js';
import { MEDIAN_MS, RATE } from './scenario.js';
import type { StreamSpec } from './scenario.js';

/**
 * One second of requests, drawn once and shown to every judge. Each request carries a uniform draw
 * `u` that decides its revision under any split (canary iff u < share), and its outcome under each
 * revision from the same draws (common random numbers). So judges that split traffic differently
 * still judge the same requests, and their differences are theirs, not the dice's.
 */
export interface Second {
  readonly n: number;
  readonly u: Float64Array;
  readonly stableLatency: Float64Array;
  readonly canaryLatency: Float64Array;
  readonly stableError: Uint8Array;
  readonly canaryError: Uint8Array;
}

export class RequestStream {
  private readonly random: SeededRandom;
  private readonly spec: StreamSpec;
  private readonly mu = Math.log(MEDIAN_MS);
  private spare: number | null = null;
  readonly second: Second;

  constructor(seed: number, spec: StreamSpec) {
    this.random = new SeededRandom(seed);
    this.spec = spec;
    this.second = {
      n: RATE,
      u: new Float64Array(RATE),
      stableLatency: new Float64Array(RATE),
      canaryLatency: new Float64Array(RATE),
      stableError: new Uint8Array(RATE),
      canaryError: new Uint8Array(RATE),
    };
  }

  /** Draws the next second's requests into `second` (reused: read it before the next call). */
  next(): Second {
    const s = this.second;
    const { sigmaLog, stableErrorRate, canaryErrorRate, latencyRatio } = this.spec;
    for (let i = 0; i < s.n; i++) {
      s.u[i] = this.random.next();
      const v = this.random.next();
      s.stableError[i] = v < stableErrorRate ? 1 : 0;
      s.canaryError[i] = v < canaryErrorRate ? 1 : 0;
      const latency = Math.exp(this.mu + sigmaLog * this.normal());
      s.stableLatency[i] = latency;
      s.canaryLatency[i] = latency * latencyRatio;
    }
    return s;
  }

  /** Marsaglia's polar method (no trigonometry), both variates used. */
  private normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    // Accepts with probability π/4 per try: 64 tries fail with probability < 1e-42.
    for (let tries = 0; tries < 64; tries++) {
      const x = 2 * this.random.next() - 1;
      const y = 2 * this.random.next() - 1;
      const s = x * x + y * y;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = y * f;
        return x * f;
      }
    }
    return 0;
  }
}

/** A growable list of numbers that is cleared, not reallocated, between windows. */
export class Samples {
  private data = new Float64Array(256);
  length = 0;

  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = x;
  }

  clear(): void {
    this.length = 0;
  }

  at(i: number): number {
    return this.data[i] ?? Number.NaN;
  }

  /** The values, sorted ascending (a copy). */
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }

  /** A copy to select order statistics from. */
  copy(): Float64Array {
    return this.data.slice(0, this.length);
  }

  countAbove(threshold: number): number {
    let count = 0;
    for (let i = 0; i < this.length; i++) if ((this.data[i] ?? 0) > threshold) count++;
    return count;
  }
}

/**
 * Rearranges `a[lo, hi)` so that a[k] is the value of rank k, smaller values before it and larger
 * after (Hoare's selection): O(n) instead of a sort, for the few quantiles a window needs.
 */
export function select(a: Float64Array, k: number, lo = 0, hi = a.length): number {
  let left = lo;
  let right = hi - 1;
  // Each pass shrinks [left, right]; the bound only guards against a logic error.
  for (let pass = 0; pass < 4 * a.length + 64 && left < right; pass++) {
    const pivot = a[(left + right) >> 1] ?? 0;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] ?? 0) < pivot) i++;
      while ((a[j] ?? 0) > pivot) j--;
      if (i <= j) {
        const t = a[i] ?? 0;
        a[i] = a[j] ?? 0;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k] ?? Number.NaN;
}

/** Rank (0-based) of the nearest-rank q-quantile among n values. */
function nearestRankIndex(n: number, q: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n))) - 1;
}

/**
 * Nearest-rank quantiles (what a sketch-backed provider approximates) of `values`, which it
 * reorders; `qs` ascending. Null when empty.
 */
export function nearestRanks(values: Float64Array, qs: readonly number[]): (number | null)[] {
  const n = values.length;
  if (n === 0) return qs.map(() => null);
  const out: number[] = [];
  let hi = n;
  // Largest first: each selection leaves the smaller ranks to its left, a shorter range next.
  for (const q of [...qs].reverse()) {
    const k = nearestRankIndex(n, q);
    out.push(select(values, k, 0, Math.min(n, Math.max(hi, k + 1))));
    hi = k + 1;
  }
  return out.reverse();
}

/** Linearly interpolated quantile (R type 7, as Prometheus-style interpolation gives); reorders. */
export function interpolated(values: Float64Array, q: number): number | null {
  const n = values.length;
  if (n === 0) return null;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = select(values, lo);
  if (lo + 1 >= n) return a;
  let b = Number.POSITIVE_INFINITY;
  for (let i = lo + 1; i < n; i++) b = Math.min(b, values[i] ?? b);
  return a + (h - lo) * (b - a);
}
