import type { MetricsProvider, RangeQuery, WindowAggregate } from '../metrics/provider.js';

export interface FixedCanary {
  /** Requests per second to the service. */
  readonly rate: number;
  /** Fraction of them the canary serves (every revision but `stable`). */
  readonly share: number;
  /** CPU per request, ms. */
  readonly cpuMs: number;
  /** Idle CPU of all of a revision's processes, cores. Default 0.004 (two idle replicas here). */
  readonly idleCores?: number;
  readonly stable?: string;
  /** Latency p50 and p95 of every revision, ms. Default 9 and 12. */
  readonly p50?: number;
  readonly p95?: number;
}

/**
 * A metrics provider answering steady aggregates for a canary split: what the forecaster's unit
 * tests and the re-prediction benchmark need (aggregates and one-second series; nothing else).
 */
export function fixedCanaryProvider(spec: FixedCanary): MetricsProvider {
  const { rate, share, cpuMs, idleCores = 0.004, stable = 'v1', p50 = 9, p95 = 12 } = spec;
  const aggregate = (q: RangeQuery): WindowAggregate => {
    const seconds = (q.to - q.from) / 1000;
    const perSec = rate * (q.revision === stable ? 1 - share : share);
    return {
      service: q.service,
      revision: q.revision,
      from: q.from,
      to: q.to,
      requests: Math.round(perSec * seconds),
      errors: 0,
      timeouts: 0,
      resets: 0,
      errorRate: 0,
      latency: { p50, p95, p99: p95 * 1.5, mean: p50, max: p95 * 2 },
      inflightMax: 2,
      cpuCores: (perSec * cpuMs) / 1000 + idleCores,
      rssBytes: 50e6,
      windows: seconds,
    };
  };
  const unused = (): never => {
    throw new Error('fixedCanaryProvider answers aggregates and series only');
  };
  const series = (q: RangeQuery): WindowAggregate[] => {
    const out: WindowAggregate[] = [];
    for (let from = Math.ceil(q.from / 1000) * 1000; from + 1000 <= q.to; from += 1000)
      out.push(aggregate({ service: q.service, revision: q.revision, from, to: from + 1000 }));
    return out;
  };
  return {
    aggregate: (q) => Promise.resolve(aggregate(q)),
    quantile: unused,
    exceedances: unused,
    series: (q) => Promise.resolve(series(q)),
    revisions: unused,
  };
}
