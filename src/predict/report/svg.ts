import { type Html, join, markup } from './escape.js';

/** Pixel bounds of a chart's plotting area inside its SVG. */
export interface Area {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

export function area(width: number, height: number): Area {
  return { width, height, left: 46, right: width - 10, top: 10, bottom: height - 24 };
}

/** Smallest and largest finite values, widened when they coincide; the fallback when none is finite. */
export function extent(values: readonly number[], fallback: readonly [number, number]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo > hi) return [fallback[0], fallback[1]];
  if (lo === hi) hi = lo + (Math.abs(lo) || 1);
  return [lo, hi];
}

function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const f = raw / magnitude;
  // The nearest of 1, 2, 5, 10 on a log scale (d3's thresholds), so 4 asked ticks give 3 to 6.
  return (f < Math.SQRT2 ? 1 : f < Math.sqrt(10) ? 2 : f < Math.sqrt(50) ? 5 : 10) * magnitude;
}

/** Round ticks (steps of 1, 2 or 5 × 10ⁿ) covering [lo, hi]; the first and last are the axis bounds. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return [0, 1];
  const step = niceStep((hi - lo) / count);
  if (!Number.isFinite(step) || step <= 0) return [lo, hi];
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const intervals = Math.max(1, Math.round((end - start) / step));
  return Array.from({ length: intervals + 1 }, (_, i) =>
    Number.parseFloat((start + i * step).toPrecision(12)),
  );
}

/** Maps [d0, d1] onto [r0, r1]. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

export function svg(a: Area, label: string, body: Html): Html {
  return markup`<svg viewBox="0 0 ${a.width} ${a.height}" width="${a.width}" height="${a.height}" role="img" aria-label="${label}">${body}</svg>`;
}

/** Horizontal grid lines with their labels left of the plot. */
export function yAxis(
  a: Area,
  ticks: readonly number[],
  y: (v: number) => number,
  label: (v: number) => string,
): Html {
  return join(
    ticks.map(
      (t) =>
        markup`<line class="grid" x1="${a.left}" x2="${a.right}" y1="${y(t)}" y2="${y(t)}"/><text class="tick" x="${a.left - 4}" y="${y(t) + 3}" text-anchor="end">${label(t)}</text>`,
    ),
  );
}

/** The baseline with a tick and label at each given position. */
export function xAxis(a: Area, ticks: readonly { readonly x: number; readonly label: string }[]): Html {
  const marks = ticks.map(
    (t) =>
      markup`<line class="axis" x1="${t.x}" x2="${t.x}" y1="${a.bottom}" y2="${a.bottom + 4}"/><text class="tick" x="${t.x}" y="${a.bottom + 15}" text-anchor="middle">${t.label}</text>`,
  );
  return markup`<line class="axis" x1="${a.left}" x2="${a.right}" y1="${a.bottom}" y2="${a.bottom}"/>${marks}`;
}

/** A dashed horizontal reference line (a limit, saturation) with a label at its right end. */
export function referenceLine(a: Area, y: number, label: string, cls: string): Html {
  return markup`<line class="${cls}" x1="${a.left}" x2="${a.right}" y1="${y}" y2="${y}" stroke-dasharray="5 3"/><text class="ref-label" x="${a.right - 2}" y="${y - 3}" text-anchor="end">${label}</text>`;
}

export function polyline(points: readonly (readonly [number, number])[], cls: string): Html {
  if (points.length < 2) return markup``;
  return markup`<polyline class="${cls}" fill="none" points="${points.map(([x, y]) => markup`${x},${y} `)}"/>`;
}

export function note(a: Area, text: string): Html {
  return markup`<text class="note" x="${(a.left + a.right) / 2}" y="${(a.top + a.bottom) / 2}" text-anchor="middle">${text}</text>`;
}
