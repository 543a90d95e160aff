import type { Random } from '../core/random.js';

export interface LatencySummary {
  /** Responses measured (all of them, not only those kept in the sample). */
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Exact over all responses. */
  readonly max: number;
  /** Exact over all responses. */
  readonly mean: number;
}

export const DEFAULT_RESERVOIR_SIZE = 100_000;

/**
 * A uniform sample of at most `capacity` values (reservoir sampling), so memory stays bounded on
 * long runs; quantiles are exact while fewer values than the capacity were added.
 */
export class Reservoir {
  private readonly values: number[] = [];
  private seen = 0;
  private sum = 0;
  private largest = 0;
  private readonly capacity: number;
  private readonly random: Random;

  constructor(capacity: number, random: Random) {
    this.capacity = Math.max(1, Math.floor(capacity));
    this.random = random;
  }

  get count(): number {
    return this.seen;
  }

  get size(): number {
    return this.values.length;
  }

  add(value: number): void {
    this.seen++;
    this.sum += value;
    if (value > this.largest) this.largest = value;
    if (this.values.length < this.capacity) {
      this.values.push(value);
      return;
    }
    const slot = Math.floor(this.random.next() * this.seen);
    if (slot < this.capacity) this.values[slot] = value;
  }

  /** Nearest-rank quantiles of the sample; every field is 0 before the first value. */
  summary(): LatencySummary {
    if (this.seen === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    const sorted = Float64Array.from(this.values).sort();
    return {
      count: this.seen,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
      max: this.largest,
      mean: this.sum / this.seen,
    };
  }
}

/** Nearest rank: the smallest value with at least a fraction `q` of the sample at or below it. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? 0;
}
