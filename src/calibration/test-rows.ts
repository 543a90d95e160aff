import { SeededRandom } from '../core/random.js';
import { FEATURE_NAMES, type ModelRow } from './features.js';

/**
 * Synthetic rows with a known correction for tests: p99's log ratio (observed over simulated) is
 * 0.3·u − 0.1 plus Gaussian noise of sd 0.05 + 0.25·u, where u ∈ [0, 1) is the simulated CPU
 * utilisation feature; the other metrics follow the same form with smaller effects. `shift` adds
 * to every log ratio and `noise` scales the noise (a change production goes through).
 */
export function syntheticRows(
  count: number,
  seed: number,
  options: { readonly start?: number; readonly shift?: number; readonly noise?: number } = {},
): ModelRow[] {
  const random = new SeededRandom(seed);
  const normal = (): number => {
    const u1 = Math.max(1e-12, random.next());
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random.next());
  };
  const start = options.start ?? 1_700_000_000_000;
  const rows: ModelRow[] = [];
  for (let i = 0; i < count; i++) {
    const u = random.next();
    const features = FEATURE_NAMES.map((_, j) => (j === 11 ? u : random.next()));
    const sd = (0.05 + 0.25 * u) * (options.noise ?? 1);
    const ratio = (mean: number, scale: number): number =>
      Math.exp(mean + (options.shift ?? 0) + scale * sd * normal());
    const simulated = { latencyP50Ms: 10, latencyP95Ms: 20, latencyP99Ms: 30, errorRate: 0, cpuCores: 0.1 };
    rows.push({
      service: i % 2 === 0 ? 'cart' : 'catalog',
      revision: 'v1',
      at: start + i * 10_000,
      windowMs: 10_000,
      requests: 100,
      features,
      simulated,
      observed: {
        latencyP50Ms: 10 * ratio(0.1 * u, 0.5),
        latencyP95Ms: 20 * ratio(0.2 * u, 0.8),
        latencyP99Ms: 30 * ratio(0.3 * u - 0.1, 1),
        errorRate: Math.max(0, 0.01 * u + 0.002 * normal()),
        cpuCores: 0.1 * ratio(0.2, 0.3),
      },
    });
  }
  return rows;
}

/** The true central 90% range of p99 for a row with CPU utilisation feature u (no shift). */
export function trueP99Range(u: number): { low: number; high: number } {
  const sd = 0.05 + 0.25 * u;
  const mean = 0.3 * u - 0.1;
  return { low: 30 * Math.exp(mean - 1.6449 * sd), high: 30 * Math.exp(mean + 1.6449 * sd) };
}
