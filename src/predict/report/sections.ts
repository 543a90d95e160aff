import type { ModelStatus } from '../../calibration/status.js';
import type { FailurePoint, PredictedRangeEntry, SimulationResult } from '../types.js';
import { PREDICTED_METRICS } from '../types.js';
import { type RangeSeries, rangeChart, utilisationChart } from './charts.js';
import { type Html, join, markup } from './escape.js';
import {
  formatInteger,
  formatMs,
  formatMultiple,
  formatNumber,
  formatPercent,
  formatRate,
  formatTier,
  formatTime,
} from './format.js';

export interface RiskThresholds {
  readonly low: number;
  readonly high: number;
}

function riskClass(score: number, t: RiskThresholds): string {
  if (!Number.isFinite(score)) return 'risk-unknown';
  if (score <= t.low) return 'risk-low';
  return score <= t.high ? 'risk-medium' : 'risk-high';
}

function table(headings: readonly string[], rows: readonly (readonly string[])[], cls = ''): Html {
  return markup`<table${cls === '' ? '' : markup` class="${cls}"`}><thead><tr>${headings.map((h) => markup`<th>${h}</th>`)}</tr></thead><tbody>${rows.map(
    (row) => markup`<tr>${row.map((cell) => markup`<td>${cell}</td>`)}</tr>`,
  )}</tbody></table>`;
}

export function header(result: SimulationResult, title: string, thresholds: RiskThresholds): Html {
  const facts: [string, Html | string][] = [
    ['breach tier', result.breachTier === null ? 'none' : formatTier(result.breachTier)],
    ['confidence', formatPercent(result.confidence)],
    ['model', result.modelVersion],
  ];
  return markup`<header><h1>${title}</h1><p class="subject">release <strong>${result.release}</strong> of <strong>${result.application}</strong></p><div class="headline"><div class="risk ${riskClass(result.riskScore, thresholds)}"><span class="risk-value">${formatPercent(result.riskScore)}</span><span class="risk-label">risk of breaching a limit before 100%</span></div><p class="summary">${result.summary}</p></div><dl class="facts">${facts.map(
    ([k, v]) => markup`<div><dt>${k}</dt><dd>${v}</dd></div>`,
  )}</dl></header>`;
}

export function provenance(result: SimulationResult): Html {
  const p = result.provenance;
  const rows = p.profiles.map((profile) => [
    profile.service,
    profile.revision,
    profile.source,
    formatInteger(profile.requests),
    formatMs(profile.serviceTimeMs.p50),
    formatMs(profile.serviceTimeMs.p99),
    formatMs(profile.cpuMsPerRequest),
    formatPercent(profile.errorProbability),
    `${formatNumber(profile.memoryGrowthMbPer1k, 2)} MiB`,
  ]);
  const profiles =
    rows.length === 0
      ? markup`<p class="muted">No service profiles.</p>`
      : table(
          [
            'service',
            'revision',
            'source',
            'requests',
            'service time p50',
            'service time p99',
            'CPU per request',
            'error probability',
            'memory growth / 1k requests',
          ],
          rows,
          'numeric',
        );
  const history =
    p.history === null
      ? 'no stored history'
      : `${formatInteger(p.history.minutes)} minutes of stored history, ${formatTime(p.history.from)} – ${formatTime(p.history.to)}`;
  return markup`<section><h2>Provenance</h2><p>Load: nominal ${formatRate(p.nominalRatePerSec)}, peak ${formatRate(p.peakRatePerSec)}; ${history}.</p>${profiles}</section>`;
}

function metricOrder(metric: string): number {
  const i = (PREDICTED_METRICS as readonly string[]).indexOf(metric);
  return i < 0 ? PREDICTED_METRICS.length : i;
}

/** Entries grouped per service (in order of first appearance), then revision and metric. */
export function groupRanges(ranges: readonly PredictedRangeEntry[]): Map<string, RangeSeries[]> {
  const byKey = new Map<string, RangeSeries & { entries: PredictedRangeEntry[] }>();
  const byService = new Map<string, RangeSeries[]>();
  for (const entry of ranges) {
    const key = JSON.stringify([entry.service, entry.revision, entry.metric]);
    let series = byKey.get(key);
    if (series === undefined) {
      series = { service: entry.service, revision: entry.revision, metric: entry.metric, entries: [] };
      byKey.set(key, series);
      const list = byService.get(entry.service) ?? [];
      list.push(series);
      byService.set(entry.service, list);
    }
    series.entries.push(entry);
  }
  for (const list of byService.values()) {
    list.sort(
      (a, b) => a.revision.localeCompare(b.revision) || metricOrder(a.metric) - metricOrder(b.metric),
    );
  }
  return byService;
}

export function rangePlots(result: SimulationResult): Html {
  const groups = [...groupRanges(result.ranges)];
  const body =
    groups.length === 0
      ? markup`<p class="muted">No predicted ranges.</p>`
      : join(
          groups.map(
            ([service, series]) =>
              markup`<section class="service"><h3>${service}</h3><div class="charts">${series.map((s) => rangeChart(s, result.tiers))}</div></section>`,
          ),
        );
  return markup`<section><h2>Predicted ranges by tier</h2><p class="muted">Bars span the predicted low–high at each tier (${formatPercent(result.confidence)} of runs); dashed lines are limits. Bar colour: <span class="key ok">no breach</span> <span class="key breach-possible">some runs breach</span> <span class="key breach-likely">half or more breach</span>. Hover a tier for its figures.</p>${body}</section>`;
}

export function utilisationPlots(result: SimulationResult): Html {
  const body =
    result.utilisation.length === 0
      ? markup`<p class="muted">No utilisation curves.</p>`
      : markup`<div class="charts">${result.utilisation.map(utilisationChart)}</div>`;
  return markup`<section><h2>Utilisation vs load per service</h2>${body}</section>`;
}

/** Ordering key: a null tier or load multiple means "from the start", so it sorts first. */
function earliness(v: number | null, ifNull: number): number {
  if (v === null) return ifNull;
  return Number.isNaN(v) ? Infinity : v;
}

export function sortFailurePoints(points: readonly FailurePoint[]): FailurePoint[] {
  return [...points].sort(
    (a, b) =>
      earliness(a.tier, -Infinity) - earliness(b.tier, -Infinity) ||
      earliness(a.loadMultiple, 1) - earliness(b.loadMultiple, 1),
  );
}

export function failurePoints(result: SimulationResult): Html {
  const points = sortFailurePoints(result.failurePoints);
  const body =
    points.length === 0
      ? markup`<p class="none">none found</p>`
      : table(
          ['kind', 'service', 'revision', 'resource', 'load multiple', 'tier', 'scenario', 'detail'],
          points.map((f) => [
            f.kind,
            f.service,
            f.revision,
            f.resource,
            formatMultiple(f.loadMultiple),
            formatTier(f.tier),
            f.scenario,
            f.detail,
          ]),
        );
  return markup`<section><h2>Failure points</h2><p class="muted">Earliest first: lowest tier, then lowest multiple of nominal load.</p>${body}</section>`;
}

export function scenarios(result: SimulationResult): Html {
  const body =
    result.scenarios.length === 0
      ? markup`<p class="muted">No scenarios.</p>`
      : table(
          ['name', 'weight', 'runs', 'breach probability', 'description'],
          result.scenarios.map((s) => [
            s.name,
            formatNumber(s.weight, 3),
            formatInteger(s.runs),
            formatPercent(s.breachProbability),
            s.description,
          ]),
        );
  const seedList = result.seeds.map((s) => formatNumber(s, 0)).join(', ');
  const seeds =
    result.seeds.length <= 16
      ? markup`<p>Seeds: <code>${seedList || 'none'}</code></p>`
      : markup`<details><summary>${formatInteger(result.seeds.length)} seeds</summary><p><code>${seedList}</code></p></details>`;
  return markup`<section><h2>Scenarios</h2>${body}${seeds}</section>`;
}

/** The prediction model's calibration (`augur model status`), when the application's store has one. */
export function modelSection(status: ModelStatus | null): Html {
  if (status === null)
    return markup`<section><h2>Prediction model</h2><p class="muted">No store: ranges are the simulation's, widened by the cold-start rule.</p></section>`;
  const current = status.current;
  const version =
    current === null
      ? markup`<p>No model trained yet: ${formatInteger(status.data.rows)} windows recorded, a metric needs ${formatInteger(status.learnedFrom)}. Ranges are the simulation's, widened by the cold-start rule.</p>`
      : markup`<p>Model <code>${current.id}</code>, trained ${formatTime(current.createdAt)} on ${formatInteger(current.rows)} windows (${formatTime(current.trainingSpan.from)} – ${formatTime(current.trainingSpan.to)}).</p>${table(
          ['metric', 'rows', 'held out', 'held-out coverage (target 90%)', 'mean width'],
          Object.entries(current.metrics).map(([metric, m]) => [
            metric,
            formatInteger(m.rows),
            m.validation === null ? '–' : formatInteger(m.validation.n),
            m.validation === null ? '–' : formatPercent(m.validation.coverage),
            m.validation === null ? '–' : formatNumber(m.validation.meanWidth, 3),
          ]),
        )}`;
  const coverage =
    status.coverage.length === 0
      ? markup``
      : markup`<h3>Coverage of the ranges given before each window</h3>${table(
          ['service', 'metric', 'windows', 'covered', 'by the model', 'over time'],
          status.coverage.map((c) => [
            c.service,
            c.metric,
            formatInteger(c.n),
            formatPercent(c.coverage),
            formatInteger(c.learned),
            c.overTime.map((p) => formatPercent(p.coverage)).join(' '),
          ]),
        )}`;
  const reliability =
    status.reliability === null
      ? markup`<p class="muted">No predicted release has ended yet: no reliability figures.</p>`
      : markup`<h3>Risk scores against outcomes</h3>${table(
          ['risk bin', 'releases', 'mean risk', 'ended badly'],
          status.reliability.bins
            .filter((b) => b.count > 0)
            .map((b) => [
              `${formatPercent(b.from)}–${formatPercent(b.to)}`,
              formatInteger(b.count),
              formatPercent(b.meanPredicted),
              formatPercent(b.observedFrequency),
            ]),
        )}<p>Expected calibration error ${formatNumber(status.reliability.expectedCalibrationError, 3)}, Brier score ${formatNumber(status.reliability.brier, 3)}. Capture vs gating: ${(status.capture ?? []).map((p) => `top ${formatPercent(p.share)} → ${Number.isFinite(p.captureRate) ? formatPercent(p.captureRate) : '–'}`).join(', ')}.</p>`;
  return markup`<section><h2>Prediction model</h2>${version}${coverage}${reliability}</section>`;
}
