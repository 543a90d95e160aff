/**
 * Latency histogram with log-spaced buckets in one typed array: each power of two is split into
 * 64 equal sub-buckets, read straight from the bits of the double (exponent and the top six bits
 * of the mantissa), so recording costs no logarithm. A quantile is reported as its bucket's
 * midpoint: within 1/128 (0.79%) of a value in the bucket. Values below 2⁻²⁰ ms (~1 ns) count as
 * zero; values above 2⁴⁰ ms land in the last bucket.
 */
const SUB_BITS = 6;
const SUBS = 1 << SUB_BITS;
const MIN_EXP = -20;
const MAX_EXP = 40;
const BIASED_MIN = MIN_EXP + 1023;
/** Bucket 0 holds zeros (and values below 2^MIN_EXP); bucket 1 + k the k-th sub-bucket. */
const BUCKETS = 1 + (MAX_EXP - MIN_EXP) * SUBS;

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
/** Index of the 32-bit word holding the sign, exponent and top of the mantissa. */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** The bucket a value (ms, ≥ 0) is counted in. */
export function bucketOf(value: number): number {
  scratch[0] = value;
  const high = scratchWords[HIGH] as number;
  const exponent = (high >>> 20) & 0x7ff;
  if (exponent < BIASED_MIN) return 0;
  const index = 1 + ((exponent - BIASED_MIN) << SUB_BITS) + ((high >>> (20 - SUB_BITS)) & (SUBS - 1));
  return index < BUCKETS ? index : BUCKETS - 1;
}

/** The value a bucket stands for: its midpoint (0 for the zero bucket). */
export function bucketValue(index: number): number {
  if (index <= 0) return 0;
  const k = index - 1;
  const base = 2 ** ((k >> SUB_BITS) + MIN_EXP);
  return base * (1 + ((k & (SUBS - 1)) + 0.5) / SUBS);
}

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;

  record(value: number): void {
    const i = bucketOf(value);
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
    this.sum += value;
  }

  /** Nearest-rank quantile: the smallest bucket with at least q·n values at or below it. 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return bucketValue(i);
    }
    return bucketValue(BUCKETS - 1);
  }

  summary(): LatencySummary {
    return {
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      mean: this.count === 0 ? 0 : this.sum / this.count,
    };
  }
}
