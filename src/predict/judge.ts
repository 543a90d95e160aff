import type { ApplicationConfig } from '../config/types.js';
import type { RevisionStats, SimRunResult } from '../sim/model.js';
import type { PredictedMetric } from './types.js';

/** The metrics of one revision in one run, and how many requests they rest on. */
export interface RevisionMetrics {
  readonly requests: number;
  readonly latencyP50Ms: number;
  readonly latencyP95Ms: number;
  readonly latencyP99Ms: number;
  readonly errorRate: number;
  readonly cpuUtilisation: number;
}

/** Fewest requests for a p99 to be judged against a limit. */
export const MIN_REQUESTS_P99 = 300;
/** Fewest requests for a latency range to include the run. */
export const MIN_REQUESTS_RANGE = 20;

export function revisionStats(run: SimRunResult, service: string, revision: string): RevisionStats | null {
  const s = run.services.find((x) => x.service === service);
  return s?.revisions.find((r) => r.revision === revision) ?? null;
}

export function metricsOf(run: SimRunResult, service: string, revision: string): RevisionMetrics | null {
  const r = revisionStats(run, service, revision);
  if (r === null) return null;
  return {
    requests: r.requests,
    latencyP50Ms: r.latencyMs.p50,
    latencyP95Ms: r.latencyMs.p95,
    latencyP99Ms: r.latencyMs.p99,
    errorRate: r.errorRate,
    cpuUtilisation: r.cpuUtilisation,
  };
}

export function limitOf(app: ApplicationConfig, service: string, metric: PredictedMetric): number | null {
  const limits = app.services[service]?.limits;
  if (limits === undefined) return null;
  switch (metric) {
    case 'latencyP99Ms':
      return limits.latencyP99Ms ?? null;
    case 'errorRate':
      return limits.errorRate ?? null;
    case 'cpuUtilisation':
      return limits.cpu ?? null;
    default:
      return null;
  }
}

/**
 * Whether a metric of a revision is over its limit in a run, with enough requests to say so:
 * p99 needs MIN_REQUESTS_P99 requests, an error rate 3 / limit (so that a breach is three or more
 * errors beyond the limit's expectation, not one unlucky request). CPU utilisation is an accounting
 * of every request, judged whenever the revision served any. Null: not enough to judge.
 */
export function overLimit(
  app: ApplicationConfig,
  service: string,
  metric: PredictedMetric,
  m: RevisionMetrics,
): boolean | null {
  const limit = limitOf(app, service, metric);
  if (limit === null || m.requests === 0) return null;
  switch (metric) {
    case 'latencyP99Ms':
      return m.requests >= MIN_REQUESTS_P99 ? m.latencyP99Ms > limit : null;
    case 'errorRate':
      return m.requests >= 3 / limit ? m.errorRate > limit : null;
    case 'cpuUtilisation':
      return m.cpuUtilisation > limit;
    default:
      return null;
  }
}

const JUDGED: readonly PredictedMetric[] = ['latencyP99Ms', 'errorRate', 'cpuUtilisation'];

/**
 * Turns a run's simulated figures of a revision into the ones to judge (the prediction model's
 * correction, predict/calibrate.ts); identity when absent.
 */
export type MetricsAdjuster = (
  service: string,
  revision: string,
  m: RevisionMetrics,
  stats: RevisionStats,
) => RevisionMetrics;

/** Every `service/revision:metric` over its limit in a run. */
export function breachesOf(app: ApplicationConfig, run: SimRunResult, adjust?: MetricsAdjuster): Set<string> {
  const out = new Set<string>();
  for (const service of run.services) {
    for (const r of service.revisions) {
      const raw = metricsOf(run, service.service, r.revision);
      if (raw === null) continue;
      const m = adjust === undefined ? raw : adjust(service.service, r.revision, raw, r);
      for (const metric of JUDGED) {
        if (overLimit(app, service.service, metric, m) === true)
          out.add(`${service.service}/${r.revision}:${metric}`);
      }
    }
  }
  return out;
}

/** The value of one predicted metric. */
export function valueOf(m: RevisionMetrics, metric: PredictedMetric): number {
  return m[metric];
}
