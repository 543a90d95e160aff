/**
 * Durations as people write them in configuration: `500ms`, `30s`, `1m`, `1h30m`, `1.5s`.
 * Units go from largest to smallest, each at most once, so that `30s1m` (probably a mistake) is
 * rejected rather than silently summed.
 */

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const DURATION = new RegExp(`^(?:${NUMBER}h)?(?:${NUMBER}m(?!s))?(?:${NUMBER}s)?(?:${NUMBER}ms)?$`);
const UNIT_MS = [3_600_000, 60_000, 1_000, 1] as const;

/** Milliseconds, or undefined when `text` is not a duration or is finer than a millisecond. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null || text === '') return undefined;
  let total = 0;
  UNIT_MS.forEach((unit, index) => {
    const value = match[index + 1];
    if (value !== undefined) total += Number(value) * unit;
  });
  const rounded = Math.round(total);
  // Decimals like `0.1s` are not exact in binary: accept them when they land on a whole millisecond.
  if (Math.abs(total - rounded) > 1e-6 || !Number.isSafeInteger(rounded)) return undefined;
  return rounded;
}

/** The shortest form `parseDuration` reads back to the same value, e.g. 5_400_000 → `1h30m`. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, suffix] of [
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
    [1, 'ms'],
  ] as const) {
    const count = Math.floor(rest / unit);
    if (count > 0) out += `${count}${suffix}`;
    rest -= count * unit;
  }
  return out;
}
