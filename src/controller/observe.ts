import type { ServiceConfig } from '../config/types.js';
import type { MetricsProvider, WindowAggregate } from '../metrics/provider.js';
import { LATENCY_MARGIN_MS } from './core/observation.js';
import type { LogLatencyMoments, Observation, RevisionWindow } from './core/observation.js';
import { bakeStart } from './core/release.js';
import type { ServiceTrack } from './core/types.js';
import type { Forecaster, PredictionSource } from './predicted/source.js';

export interface ObservationSources {
  readonly provider: MetricsProvider;
  crashLooping(service: string, revision: string): boolean;
}

/**
 * Reads one window [from, to) of a track's canary and stable revisions from the metrics provider.
 * A provider failure yields `canary: null`: the core then holds, since missing data is not
 * evidence of health.
 */
export async function observeTrack(
  sources: ObservationSources,
  prediction: PredictionSource,
  service: ServiceConfig,
  track: ServiceTrack,
  stable: string,
  from: number,
  to: number,
  options: { readonly forecaster?: Forecaster; readonly latencyIncrease?: number } = {},
): Promise<Observation> {
  const { forecaster, latencyIncrease = 0 } = options;
  const base = {
    service: track.service,
    from,
    to,
    weight: track.appliedWeight,
    crashLoop: sources.crashLooping(track.service, track.canary),
    risk: null,
    predicted: null,
  };
  try {
    const [canary, baseline] = await Promise.all([
      revisionWindow(sources.provider, service, track.canary, from, to),
      revisionWindow(sources.provider, service, stable, from, to),
    ]);
    const unusable = unusableCounts(canary, 'canary') ?? unusableCounts(baseline, 'stable');
    if (unusable !== null) return { ...base, canary: null, stable: null, unavailable: unusable };
    const range = await prediction.predict(service, stable, track.canary, from, to);
    const read =
      range === null
        ? null
        : {
            latencyHighMs: range.latencyHighMs,
            nominalTail: range.nominalTail,
            ...(range.per === undefined ? {} : { per: range.per }),
            above: (
              await sources.provider.exceedances({
                service: service.name,
                revision: track.canary,
                from,
                to,
                exact: true,
                thresholdMs: range.latencyHighMs,
              })
            ).above,
          };
    // An exceedance count that is not a count leaves the window without a prediction to test.
    const predicted = read !== null && isCount(read.above) ? read : null;
    const latencySplit = await sharedThresholdSplit(
      sources.provider,
      service,
      track.canary,
      stable,
      from,
      to,
      latencyIncrease,
    );
    const before = await logLatencyBefore(sources.provider, service, stable, from, to);
    const stableBefore = before !== null && momentsProblem(before) === null ? before : null;
    const forecast = await forecastTrack(forecaster, service, track, stable, to);
    return {
      ...base,
      canary,
      stable: { ...baseline, logLatencyBefore: stableBefore },
      predicted,
      latencySplit,
      ...(forecast === undefined ? {} : { risk: forecast?.risk ?? null, forecast }),
    };
  } catch (error) {
    return {
      ...base,
      canary: null,
      stable: null,
      unavailable: error instanceof Error ? error.message : String(error),
    };
  }
}

async function revisionWindow(
  provider: MetricsProvider,
  service: ServiceConfig,
  revision: string,
  from: number,
  to: number,
): Promise<RevisionWindow> {
  // Exact: a window the tests count must hold nothing an earlier window held (after a restart the
  // builtin provider would otherwise count a stored minute whole).
  const query = { service: service.name, revision, from, to, exact: true };
  const aggregate: WindowAggregate = await provider.aggregate(query);
  const limit = service.limits.latencyP99Ms;
  const slow =
    limit === undefined ? null : (await provider.exceedances({ ...query, thresholdMs: limit })).above;
  const cpu = aggregate.cpuCores;
  return {
    requests: aggregate.requests,
    errors: aggregate.errors,
    slow,
    latencyP99Ms: aggregate.latency.p99,
    // A CPU figure that is not a number is unknown, as when the source has none.
    cpuCores: cpu !== null && isCount(cpu) ? cpu : null,
    cpuCapacity: service.resources.cpu * service.resources.replicas,
    logLatency: aggregate.logLatency ?? null,
  };
}

/**
 * Why a revision's window cannot be tested, or null when it can. Counts must be finite and ≥ 0,
 * with no more errors than requests, and log-latency moments consistent: a provider that reports
 * otherwise has lost or mangled the window, and its figures are no evidence either way — the window
 * counts as missing, so the track holds and the outage clock runs.
 */
export function unusableCounts(w: RevisionWindow, revision: 'canary' | 'stable'): string | null {
  const problem = countsProblem(w);
  return problem === null ? null : `the ${revision}'s metrics are not valid counts (${problem})`;
}

/** Requests and errors that can be counts of the same requests. */
export function validCounts(w: { readonly requests: number; readonly errors: number }): boolean {
  return isCount(w.requests) && isCount(w.errors) && w.errors <= w.requests;
}

function countsProblem(w: RevisionWindow): string | null {
  if (!isCount(w.requests)) return `requests ${w.requests}`;
  if (!validCounts(w)) return `errors ${w.errors} of ${w.requests} requests`;
  if (w.slow !== null && !isCount(w.slow)) return `slow requests ${w.slow}`;
  const moments = w.logLatency ?? null;
  return moments === null ? null : momentsProblem(moments);
}

function momentsProblem(m: LogLatencyMoments): string | null {
  const valid =
    Number.isInteger(m.n) &&
    m.n >= 0 &&
    Number.isFinite(m.sum) &&
    isCount(m.sumSq) &&
    (m.n > 0 || (m.sum === 0 && m.sumSq === 0));
  return valid ? null : `log-latency moments n ${m.n}, Σ ${m.sum}, Σ² ${m.sumSq}`;
}

function isCount(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/**
 * The stable's log-latency moments over the window before this one, which seed the log-scale
 * comparison's variance. Null when the provider cannot say (the comparison then learns the variance
 * from its first window instead).
 */
async function logLatencyBefore(
  provider: MetricsProvider,
  service: ServiceConfig,
  stable: string,
  from: number,
  to: number,
): Promise<LogLatencyMoments | null> {
  try {
    const before = await provider.aggregate({
      service: service.name,
      revision: stable,
      from: from - (to - from),
      to: from,
    });
    return before.logLatency ?? null;
  } catch {
    return null;
  }
}

/**
 * The stable's requests slower than its median latency over the window before this one (a
 * threshold fixed before the window, so it cannot favour either revision: docs/statistics.md), and
 * the canary's slower than that times 1 + the tolerated increase, plus LATENCY_MARGIN_MS.
 * Null when there is no such median or the provider cannot say: the latency comparison then skips
 * this window, and the other tests go on (no evidence either way, never evidence of health).
 */
async function sharedThresholdSplit(
  provider: MetricsProvider,
  service: ServiceConfig,
  canary: string,
  stable: string,
  from: number,
  to: number,
  latencyIncrease: number,
): Promise<NonNullable<Observation['latencySplit']> | null> {
  try {
    const thresholdMs = await provider.quantile({
      service: service.name,
      revision: stable,
      from: from - (to - from),
      to: from,
      q: 0.5,
    });
    if (thresholdMs === null) return null;
    const query = { service: service.name, from, to, exact: true };
    // With a sketch both thresholds round to bucket edges; the canary's is never the lower one.
    const canaryThresholdMs = thresholdMs * (1 + latencyIncrease) + LATENCY_MARGIN_MS;
    const [c, s] = await Promise.all([
      provider.exceedances({ ...query, revision: canary, thresholdMs: canaryThresholdMs }),
      provider.exceedances({ ...query, revision: stable, thresholdMs }),
    ]);
    return {
      thresholdMs,
      marginMs: LATENCY_MARGIN_MS,
      canaryThresholdMs,
      canaryAbove: c.above,
      stableAbove: s.above,
    };
  } catch {
    return null;
  }
}

/**
 * The re-prediction of the tiers ahead from the current tier's observations so far. Undefined
 * without a forecaster; null while it cannot say; a failing forecaster is reported as no forecast,
 * never as low risk.
 */
async function forecastTrack(
  forecaster: Forecaster | undefined,
  service: ServiceConfig,
  track: ServiceTrack,
  stable: string,
  to: number,
): Promise<(Observation['forecast'] & { risk: number | null }) | null | undefined> {
  if (forecaster === undefined) return undefined;
  const tier = track.tiers[track.tierIndex];
  if (tier === undefined || track.tierIndex >= track.tiers.length - 1) return null;
  // The tier's own figures begin once its weight is confirmed.
  const since = bakeStart(tier);
  if (since === null) return null;
  const from = Math.ceil(since / 1000) * 1000;
  if (to - from < 1000) return null;
  try {
    const forecast = await forecaster.forecast({
      service,
      stable,
      canary: track.canary,
      tiers: track.tiers.map((t) => t.share),
      tierIndex: track.tierIndex,
      from,
      to,
    });
    if (forecast === null) return null;
    // A risk that is not a probability is kept as unknown (null beside the forecast): the core then
    // holds the tier, and the observation replays the same through JSON.
    const { risk } = forecast;
    const known = Number.isFinite(risk) && risk >= 0 && risk <= 1;
    return { risk: known ? risk : null, breachTier: forecast.breachTier, detail: forecast.detail };
  } catch {
    return null;
  }
}
