import type { ServiceConfig } from '../config/types.js';
import type { MetricsProvider, WindowAggregate } from '../metrics/provider.js';
import type { Observation, RevisionWindow } from './core/observation.js';
import type { ServiceTrack } from './core/types.js';
import type { PredictionSource } from './predicted/source.js';

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
): Promise<Observation> {
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
    const range = await prediction.predict(service, stable, track.canary, from, to);
    const predicted =
      range === null
        ? null
        : {
            latencyHighMs: range.latencyHighMs,
            nominalTail: range.nominalTail,
            above: (
              await sources.provider.exceedances({
                service: service.name,
                revision: track.canary,
                from,
                to,
                thresholdMs: range.latencyHighMs,
              })
            ).above,
          };
    return { ...base, canary, stable: baseline, predicted };
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
  const query = { service: service.name, revision, from, to };
  const aggregate: WindowAggregate = await provider.aggregate(query);
  const limit = service.limits.latencyP99Ms;
  const slow =
    limit === undefined ? null : (await provider.exceedances({ ...query, thresholdMs: limit })).above;
  return {
    requests: aggregate.requests,
    errors: aggregate.errors,
    slow,
    latencyP99Ms: aggregate.latency.p99,
    cpuCores: aggregate.cpuCores,
    cpuCapacity: service.resources.cpu * service.resources.replicas,
  };
}
