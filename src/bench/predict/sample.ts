/** Draws from a SeededRandom: the only source of randomness of the generated history. */
import type { SeededRandom } from '../../core/random.js';

export class Draws {
  readonly random: SeededRandom;

  constructor(random: SeededRandom) {
    this.random = random;
  }

  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random.next();
  }

  /** Standard normal (Box–Muller; the second value is not kept, so draws stay one-to-one with calls). */
  normal(): number {
    const u = 1 - this.random.next(); // (0, 1]
    const v = this.random.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Student's t with 3 degrees of freedom: heavy tails (finite variance, infinite kurtosis). */
  studentT3(): number {
    const z = this.normal();
    const a = this.normal();
    const b = this.normal();
    const c = this.normal();
    return z / Math.sqrt((a * a + b * b + c * c) / 3 || 1e-12);
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.random.next());
  }

  /** Log-uniform between two positive bounds. */
  logUniform(low: number, high: number): number {
    return Math.exp(this.uniform(Math.log(low), Math.log(high)));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.random.next() < p;
  }
}

/** The ⌈τn⌉-th smallest of ascending values (the inverted empirical CDF; NaN when empty). */
export function sortedQuantile(sorted: ArrayLike<number>, tau: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil(tau * n - 1e-9)));
  return sorted[rank - 1] as number;
}

/** A seed for one window's simulation from the run's seed, the service and the window (FNV-1a mix). */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    let x = part >>> 0;
    for (let i = 0; i < 4; i++) {
      h ^= x & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
      x >>>= 8;
    }
  }
  return h;
}
