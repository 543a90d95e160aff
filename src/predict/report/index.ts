/**
 * The prediction report: a SimulationResult rendered as one self-contained HTML file (inline CSS
 * and SVG charts, no scripts or network) for `augur predict --report out.html`.
 */
export { renderReport } from './report.js';
export type { ReportOptions } from './report.js';
