import type { Random } from '../core/random.js';

/**
 * K ~ Binomial(n, p), exactly, from a seeded Random. Skips from success to success with geometric
 * gaps, so the cost is about n·min(p, 1−p) draws: cheap for the small error rates the A/A and power
 * simulations use.
 */
export function sampleBinomial(random: Random, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - sampleBinomial(random, n, 1 - p);
  const logQ = Math.log1p(-p);
  let count = 0;
  let position = 0;
  for (;;) {
    // 1 − U is in (0, 1], so the logarithm is finite or 0.
    position += Math.floor(Math.log(1 - random.next()) / logQ) + 1;
    if (position > n) return count;
    count++;
  }
}

/** Z ~ Normal(0, 1) by Box–Muller (one of the pair; simplicity beats speed here). */
export function sampleNormal(random: Random): number {
  const u = 1 - random.next();
  const v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The median of a list (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const hi = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
}
