export { plural } from '../core/plural.js';

/** Plain-text table with right-aligned numeric columns, for terminal output. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[-\d.,%]+(ms|MB|)$|^-$/.test(r[i] ?? '')),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] === true ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function fixed(value: number | null, digits = 1, suffix = ''): string {
  return value === null || !Number.isFinite(value) ? '-' : `${value.toFixed(digits)}${suffix}`;
}

export function percent(value: number | null, digits = 2): string {
  return value === null ? '-' : `${value.toFixed(digits)}%`;
}
