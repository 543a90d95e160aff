import type { ApplicationConfig } from '../config/types.js';
import type { ServiceTimeDistribution } from '../sim/model.js';
import type { ServiceProfile } from '../sim/profile.js';
import { median } from '../stats/index.js';
import type { MetricMinute } from '../store/store.js';

/** z of the 95th percentile of a standard normal. */
const Z95 = 1.6448536269514722;
/** Own service time is never taken below this, whatever the subtraction of callee latencies gives. */
const MIN_OWN_MS = 0.05;

/** A log-normal with the given median and 95th percentile (σ from their ratio). */
export function lognormalFrom(p50: number, p95: number): ServiceTimeDistribution {
  const medianMs = Math.max(MIN_OWN_MS, p50);
  const sigma = p95 > medianMs ? Math.min(3, Math.log(p95 / medianMs) / Z95) : 0.1;
  return { kind: 'lognormal', medianMs, sigma };
}

/** Summary of a log-normal, for reports. */
export function lognormalSummary(medianMs: number, sigma: number): ServiceProfile['serviceTimeMs'] {
  return {
    p50: medianMs,
    p95: medianMs * Math.exp(Z95 * sigma),
    p99: medianMs * Math.exp(2.3263478740408408 * sigma),
    mean: medianMs * Math.exp((sigma * sigma) / 2),
  };
}

/** What is assumed of a revision nothing has measured: 1 ms of work, 1 ms of CPU, no errors. */
export function assumedProfile(service: string, revision: string): ServiceProfile {
  return {
    service,
    revision,
    serviceTime: { kind: 'lognormal', medianMs: 1, sigma: 0.5 },
    serviceTimeMs: lognormalSummary(1, 0.5),
    errorProbability: 0,
    cpuMsPerRequest: 1,
    memoryGrowthMbPer1k: 0,
    requests: 0,
    source: 'configured',
  };
}

interface Totals {
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  /** CPU ms per request of each minute busy enough to say (see MIN_MINUTE_REQUESTS). */
  cpuPerRequest: number[];
}

/**
 * A minute with fewer requests says little about CPU per request: the processes' idle work would be
 * spread over too few requests.
 */
const MIN_MINUTE_REQUESTS = 120;
/**
 * A minute recorded only in part (the collector started or stopped within it) has its requests
 * counted over the part but its CPU averaged as cores: charged to those requests as a whole minute,
 * it inflates CPU per request by 60 s ÷ the part. Such minutes are the quiet ones: a minute with
 * fewer requests than this share of the revision's median minute is left out of CPU per request.
 */
const MIN_SHARE_OF_MEDIAN_MINUTE = 0.5;
/** Idle CPU allowed per replica (cores) before CPU is charged to requests; see forecast.ts. */
const IDLE_CORES_PER_REPLICA = 0.003;

function totals(rows: readonly MetricMinute[], replicas: number): Totals {
  const t: Totals = { requests: 0, errors: 0, p50: 0, p95: 0, cpuPerRequest: [] };
  const busy = rows.filter((r) => r.requests > 0).map((r) => r.requests);
  const minCpuRequests = Math.max(
    MIN_MINUTE_REQUESTS,
    busy.length > 0 ? MIN_SHARE_OF_MEDIAN_MINUTE * median(busy) : 0,
  );
  for (const row of rows) {
    if (row.requests <= 0) continue;
    t.requests += row.requests;
    t.errors += row.errors;
    // Request-weighted means of the minutes' quantiles: an approximation of the merged quantile.
    t.p50 += (row.latencyP50Ms ?? 0) * row.requests;
    t.p95 += (row.latencyP95Ms ?? 0) * row.requests;
    if (row.cpuCores !== null && row.requests >= minCpuRequests) {
      const working = Math.max(0, row.cpuCores - IDLE_CORES_PER_REPLICA * replicas);
      t.cpuPerRequest.push((working * 60_000) / row.requests);
    }
  }
  if (t.requests > 0) {
    t.p50 /= t.requests;
    t.p95 /= t.requests;
  }
  return t;
}

/**
 * Profiles of every revision that stored history has seen with at least `minRequests` requests.
 * Own service time is the revision's latency minus what its calls add (the callees' latency times
 * perRequest for sequential calls, the largest for parallel ones), a first-order approximation
 * that ignores correlation between hops. CPU per request is the median over the minutes with at
 * least MIN_MINUTE_REQUESTS requests and half the revision's median minute, after an idle
 * allowance per replica (docs/prediction.md).
 */
export function profilesFromHistory(
  app: ApplicationConfig,
  rows: readonly MetricMinute[],
  minRequests = 200,
): ServiceProfile[] {
  const groups = new Map<string, MetricMinute[]>();
  for (const row of rows) {
    const key = `${row.service}\u0000${row.revision}`;
    let list = groups.get(key);
    if (list === undefined) groups.set(key, (list = []));
    list.push(row);
  }
  const byService = new Map<string, Totals>();
  const all = new Map<string, Totals>();
  for (const [key, list] of groups) {
    const service = key.split('\u0000')[0] ?? '';
    const config = app.services[service];
    const t = totals(list, config?.resources.replicas ?? 1);
    all.set(key, t);
    if (config !== undefined && list[0]?.revision === config.stable) byService.set(service, t);
  }
  const profiles: ServiceProfile[] = [];
  for (const [key, t] of all) {
    const [service = '', revision = ''] = key.split('\u0000');
    const config = app.services[service];
    if (config === undefined || t.requests < minRequests) continue;
    let callP50 = 0;
    let callP95 = 0;
    let parallelP50 = 0;
    let parallelP95 = 0;
    for (const call of config.calls) {
      const callee = byService.get(call.service);
      if (callee === undefined) continue;
      if (call.mode === 'parallel') {
        parallelP50 = Math.max(parallelP50, callee.p50);
        parallelP95 = Math.max(parallelP95, callee.p95);
      } else {
        callP50 += callee.p50 * call.perRequest;
        callP95 += callee.p95 * call.perRequest;
      }
    }
    const ownP50 = Math.max(MIN_OWN_MS, t.p50 - callP50 - parallelP50);
    const ownP95 = Math.max(ownP50, t.p95 - callP95 - parallelP95);
    const serviceTime = lognormalFrom(ownP50, ownP95);
    const sigma = serviceTime.kind === 'lognormal' ? serviceTime.sigma : 0.5;
    profiles.push({
      service,
      revision,
      serviceTime,
      serviceTimeMs: lognormalSummary(ownP50, sigma),
      errorProbability: t.errors / t.requests,
      cpuMsPerRequest: t.cpuPerRequest.length > 0 ? median(t.cpuPerRequest) : 1,
      memoryGrowthMbPer1k: 0,
      requests: t.requests,
      source: 'production',
    });
  }
  return profiles;
}

/**
 * Chooses, per service × revision, the best profile available: measured in the sandbox, else from
 * production history, else the assumption (which the result's provenance shows).
 */
export function profileLookup(
  sandbox: readonly ServiceProfile[],
  production: readonly ServiceProfile[],
): { lookup: (service: string, revision: string) => ServiceProfile; used: () => ServiceProfile[] } {
  const table = new Map<string, ServiceProfile>();
  for (const p of production) table.set(`${p.service}\u0000${p.revision}`, p);
  for (const p of sandbox) table.set(`${p.service}\u0000${p.revision}`, p);
  const used = new Map<string, ServiceProfile>();
  return {
    lookup: (service, revision) => {
      const key = `${service}\u0000${revision}`;
      const profile = table.get(key) ?? assumedProfile(service, revision);
      used.set(key, profile);
      return profile;
    },
    used: () =>
      [...used.values()].sort((a, b) => (a.service + a.revision).localeCompare(b.service + b.revision)),
  };
}
