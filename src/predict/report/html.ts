import { Html, markup } from './escape.js';

/*
 * Self-contained by construction: inline CSS only, no scripts, and a Content-Security-Policy that
 * forbids every fetch, so even a mistake elsewhere cannot make the file reach the network.
 */
const CSP = "default-src 'none'; style-src 'unsafe-inline'";

/** Trusted constant text: a <style> element is raw text, so it must not be entity-escaped. */
const CSS = `
:root { --ok: #2f6fb0; --green: #1a7f37; --amber: #b26b00; --red: #c62828; --muted: #667; --line: #dde; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d24; margin: 0 auto; max-width: 1240px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; margin: 16px 0 6px; }
.muted, .subject { color: var(--muted); } .none { font-style: italic; }
.headline { display: flex; gap: 20px; align-items: center; margin: 16px 0; }
.risk { border-radius: 8px; padding: 10px 16px; color: #fff; min-width: 150px; }
.risk-value { display: block; font-size: 30px; font-weight: 700; } .risk-label { font-size: 12px; }
.risk-low { background: var(--green); } .risk-medium { background: var(--amber); } .risk-high { background: var(--red); } .risk-unknown { background: var(--muted); }
.summary { font-size: 16px; margin: 0; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0; } .facts dt { color: var(--muted); font-size: 12px; } .facts dd { margin: 0; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: #f5f5fa; }
table.numeric td:nth-child(n+4) { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12px; overflow-wrap: anywhere; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; }
.chart figcaption { font-size: 13px; font-weight: 600; }
svg { display: block; font-size: 10px; }
svg .grid { stroke: #eef; } svg .axis { stroke: #99a; } svg .tick { fill: #556; }
svg .band { fill: var(--ok); fill-opacity: 0.12; }
svg .hit { fill: transparent; } svg g:hover .hit { fill: #f0f0f8; }
svg .range { stroke: none; } svg .range.ok { fill: var(--ok); } svg .range.breach-possible { fill: var(--amber); } svg .range.breach-likely { fill: var(--red); }
svg .limit, svg .saturation { stroke: var(--red); stroke-width: 1.2; } svg .ref-label { fill: var(--red); font-size: 9px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg .line { stroke-width: 1.8; } svg .line.cpu { stroke: var(--ok); } svg .line.slots { stroke: #7b3fa0; }
svg circle.cpu { fill: var(--ok); } svg circle.slots { fill: #7b3fa0; }
svg .note { fill: var(--muted); font-size: 12px; }
.key::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 8px; vertical-align: -1px; }
.key.ok::before, .key.cpu::before { background: var(--ok); } .key.breach-possible::before { background: var(--amber); }
.key.breach-likely::before { background: var(--red); } .key.slots::before { background: #7b3fa0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
`;

export function documentOf(title: string, body: Html): string {
  return markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new Html(CSS)}</style>
</head>
<body>
${body}
</body>
</html>
`.value;
}
