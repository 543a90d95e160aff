/** Human-readable numbers. A value that is not finite reads "—" (NaN) or "∞", never "NaN". */

function nonFinite(v: number): string {
  if (Number.isNaN(v)) return '—';
  return v > 0 ? '∞' : '−∞';
}

/** Fixed decimals with trailing zeros dropped: 2.50 → "2.5", 3.00 → "3". */
export function formatNumber(v: number, digits = 1): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  let s = v.toFixed(digits);
  if (s.includes('.')) s = s.replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

export function formatInteger(v: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  return Math.round(v)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatMs(v: number): string {
  if (!Number.isFinite(v)) return `${nonFinite(v)} ms`;
  return `${v.toFixed(1)} ms`;
}

/** A ratio (0.05) as a percentage ("5%"), with more decimals for small shares. */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return nonFinite(ratio);
  const p = ratio * 100;
  if (p !== 0 && Math.abs(p) < 0.01) return p > 0 ? '<0.01%' : '>−0.01%';
  return `${formatNumber(p, Math.abs(p) < 1 ? 2 : 1)}%`;
}

/** A tier is already a percentage of traffic. */
export function formatTier(tier: number | null): string {
  return tier === null ? 'any' : `${formatNumber(tier, 2)}%`;
}

export function formatMultiple(multiple: number | null): string {
  return multiple === null ? 'already at 1×' : `${formatNumber(multiple, 2)}×`;
}

export function formatRate(perSec: number): string {
  return `${formatNumber(perSec, 1)} req/s`;
}

/** Epoch milliseconds as UTC to the minute. */
export function formatTime(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return nonFinite(epochMs);
  const date = new Date(epochMs);
  if (Number.isNaN(date.getTime())) return '—';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
