/**
 * Markup as a type: `markup` escapes every string it interpolates, so a service name from user
 * configuration can only ever reach the report as text. Only `Html` values pass through unescaped.
 */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
}

export type Part = string | number | Html | readonly Part[];

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Safe in element text and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/**
 * Numbers in markup are coordinates and sizes: rounded to 0.01, and a non-finite one becomes 0 so
 * that no "NaN" or "Infinity" can reach an SVG attribute. Numbers meant for reading go through
 * format.ts first and arrive here as strings.
 */
export function coord(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const rounded = Math.round(n * 100) / 100;
  return String(rounded === 0 ? 0 : rounded);
}

function render(part: Part): string {
  if (part instanceof Html) return part.value;
  if (typeof part === 'string') return escapeHtml(part);
  if (typeof part === 'number') return coord(part);
  return part.map(render).join('');
}

/** Tagged template: the literal text is trusted, every interpolation is escaped unless it is Html. */
export function markup(strings: TemplateStringsArray, ...parts: readonly Part[]): Html {
  let out = strings[0] ?? '';
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

export function join(parts: readonly Html[], separator = ''): Html {
  return new Html(parts.map((p) => p.value).join(separator));
}
