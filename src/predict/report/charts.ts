import type { PredictedMetric, PredictedRangeEntry, UtilisationCurve } from '../types.js';
import { type Html, join, markup } from './escape.js';
import { formatMs, formatMultiple, formatNumber, formatPercent, formatTier } from './format.js';
import { area, extent, linear, niceTicks, note, polyline, referenceLine, svg, xAxis, yAxis } from './svg.js';

interface MetricInfo {
  readonly label: string;
  /** How a value of the metric reads: milliseconds or a ratio shown as a percentage. */
  readonly value: (v: number) => string;
  readonly tick: (v: number) => string;
}

const MS: Omit<MetricInfo, 'label'> = { value: formatMs, tick: (v) => formatNumber(v, 2) };
const RATIO: Omit<MetricInfo, 'label'> = { value: formatPercent, tick: formatPercent };

export const METRICS: Readonly<Record<PredictedMetric, MetricInfo>> = {
  latencyP50Ms: { label: 'p50 latency (ms)', ...MS },
  latencyP95Ms: { label: 'p95 latency (ms)', ...MS },
  latencyP99Ms: { label: 'p99 latency (ms)', ...MS },
  errorRate: { label: 'error rate', ...RATIO },
  cpuUtilisation: { label: 'CPU utilisation', ...RATIO },
};

/** The ranges of one metric of one service's revision, over the tiers. */
export interface RangeSeries {
  readonly service: string;
  readonly revision: string;
  readonly metric: PredictedMetric;
  readonly entries: readonly PredictedRangeEntry[];
}

function breachClass(p: number): string {
  if (!(p > 0)) return 'ok';
  return p >= 0.5 ? 'breach-likely' : 'breach-possible';
}

function rangeTooltip(entry: PredictedRangeEntry, info: MetricInfo): string {
  const limit = entry.limit === null ? 'no limit' : `limit ${info.value(entry.limit)}`;
  return (
    `${formatTier(entry.tier)} tier: ${info.value(entry.low)} – ${info.value(entry.high)}; ${limit}; ` +
    `breach probability ${formatPercent(entry.breachProbability)}`
  );
}

/**
 * Predicted low–high per tier. Tiers sit on a categorical axis (evenly spaced, labelled with their
 * percentage), which reads like a log axis for the usual 0.1 → 100 progression.
 */
export function rangeChart(series: RangeSeries, tiers: readonly number[]): Html {
  const info = METRICS[series.metric];
  const a = area(280, 170);
  const categories = [...new Set([...tiers, ...series.entries.map((e) => e.tier)])]
    .filter(Number.isFinite)
    .sort((x, y) => x - y);
  const band = (a.right - a.left) / Math.max(1, categories.length);
  const xOf = (tier: number): number => a.left + (categories.indexOf(tier) + 0.5) * band;

  const plotted = series.entries
    .filter((e) => Number.isFinite(e.tier) && Number.isFinite(e.low) && Number.isFinite(e.high))
    .sort((x, y) => x.tier - y.tier);
  const limits = [
    ...new Set(
      series.entries.map((e) => e.limit).filter((l): l is number => l !== null && Number.isFinite(l)),
    ),
  ];
  const [lo, hi] = extent([0, ...plotted.flatMap((e) => [e.low, e.high]), ...limits], [0, 1]);
  const ticks = niceTicks(lo, hi);
  const y = linear(ticks[0] ?? lo, ticks[ticks.length - 1] ?? hi, a.bottom, a.top);

  const polygon =
    plotted.length < 2
      ? markup``
      : markup`<polygon class="band" points="${[
          ...plotted.map((e) => markup`${xOf(e.tier)},${y(e.high)} `),
          ...[...plotted].reverse().map((e) => markup`${xOf(e.tier)},${y(e.low)} `),
        ]}"/>`;
  const bars = plotted.map((e) => {
    const top = y(Math.max(e.low, e.high));
    const height = Math.max(2, Math.abs(y(e.low) - y(e.high)));
    const x = xOf(e.tier);
    return markup`<g><title>${rangeTooltip(e, info)}</title><rect class="hit" x="${x - band / 2}" y="${a.top}" width="${band}" height="${a.bottom - a.top}"/><rect class="range ${breachClass(e.breachProbability)}" x="${x - 4}" y="${top}" width="8" height="${height}"/></g>`;
  });
  const limitLines = limits.map((l) => referenceLine(a, y(l), `limit ${info.value(l)}`, 'limit'));
  const step = categories.length > 8 ? 2 : 1;
  const xTicks = categories
    .filter((_, i) => i % step === 0)
    .map((tier) => ({ x: xOf(tier), label: formatTier(tier) }));

  const body = markup`${yAxis(a, ticks, y, info.tick)}${xAxis(a, xTicks)}${polygon}${bars}${limitLines}${
    plotted.length === 0 ? note(a, 'no finite values') : ''
  }`;
  const skipped = series.entries.length - plotted.length;
  return markup`<figure class="chart range" data-service="${series.service}" data-metric="${series.metric}"><figcaption>${info.label} <span class="muted">${series.revision}</span>${
    skipped > 0 ? markup` <span class="muted">(${String(skipped)} without a finite range)</span>` : ''
  }</figcaption>${svg(a, `${series.service} ${info.label} by tier`, body)}</figure>`;
}

/** CPU and concurrency-slot utilisation against multiples of nominal load; 100% is saturation. */
export function utilisationChart(curve: UtilisationCurve): Html {
  const a = area(320, 190);
  const points = [...curve.points].sort((p, q) => p.loadMultiple - q.loadMultiple);
  const cpu = points.filter((p) => Number.isFinite(p.loadMultiple) && Number.isFinite(p.cpu));
  const slots = points.filter((p) => Number.isFinite(p.loadMultiple) && Number.isFinite(p.slots));
  const [x0, x1] = extent([0, ...[...cpu, ...slots].map((p) => p.loadMultiple)], [0, 1]);
  const [y0, y1] = extent([0, 1, ...cpu.map((p) => p.cpu), ...slots.map((p) => p.slots)], [0, 1]);
  const xTicks = niceTicks(x0, x1, 5);
  const yTicks = niceTicks(y0, y1);
  const x = linear(xTicks[0] ?? x0, xTicks[xTicks.length - 1] ?? x1, a.left, a.right);
  const y = linear(yTicks[0] ?? y0, yTicks[yTicks.length - 1] ?? y1, a.bottom, a.top);

  const dots = (
    series: typeof cpu,
    value: (p: (typeof cpu)[number]) => number,
    cls: string,
    name: string,
  ): Html =>
    join(
      series.map(
        (p) =>
          markup`<circle class="${cls}" cx="${x(p.loadMultiple)}" cy="${y(value(p))}" r="2.5"><title>${formatMultiple(p.loadMultiple)} load: ${name} ${formatPercent(value(p))}</title></circle>`,
      ),
    );
  const body = markup`${yAxis(a, yTicks, y, formatPercent)}${xAxis(
    a,
    xTicks.map((t) => ({ x: x(t), label: `${formatNumber(t, 2)}×` })),
  )}${referenceLine(a, y(1), 'saturation', 'saturation')}${polyline(
    cpu.map((p) => [x(p.loadMultiple), y(p.cpu)]),
    'line cpu',
  )}${polyline(
    slots.map((p) => [x(p.loadMultiple), y(p.slots)]),
    'line slots',
  )}${dots(cpu, (p) => p.cpu, 'cpu', 'CPU')}${dots(slots, (p) => p.slots, 'slots', 'slots')}${
    cpu.length + slots.length === 0 ? note(a, 'no finite points') : ''
  }`;
  return markup`<figure class="chart utilisation" data-service="${curve.service}"><figcaption>${curve.service} <span class="muted">${curve.revision}</span> <span class="key cpu">CPU</span> <span class="key slots">slots</span></figcaption>${svg(
    a,
    `${curve.service} utilisation vs load`,
    body,
  )}</figure>`;
}
