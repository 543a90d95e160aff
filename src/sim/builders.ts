import type { ServiceTimeDistribution, SimCall, SimModel, SimRevision, SimService } from './model.js';

/**
 * Builders for hand-made models (tests, benchmarks): a revision or service with neutral defaults —
 * one replica with one slot, one core, no CPU cost, no errors; callers never give up (timeout
 * Infinity) and never retry.
 */
export function revision(
  serviceTime: ServiceTimeDistribution,
  options: Partial<Omit<SimRevision, 'serviceTime'>> = {},
): SimRevision {
  return {
    name: 'v1',
    share: 1,
    replicas: 1,
    concurrency: 1,
    cpuCores: 1,
    cpuMsPerRequest: 0,
    errorProbability: 0,
    ...options,
    serviceTime,
  };
}

export function service(
  name: string,
  revisions: readonly SimRevision[],
  options: {
    readonly timeoutMs?: number;
    readonly retries?: number;
    readonly calls?: readonly SimCall[];
  } = {},
): SimService {
  return {
    name,
    revisions,
    timeoutMs: options.timeoutMs ?? Number.POSITIVE_INFINITY,
    retries: options.retries ?? 0,
    calls: options.calls ?? [],
  };
}

/** A network with constant-rate Poisson arrivals at services[entrypoint]. */
export function network(
  services: readonly SimService[],
  options: {
    readonly ratePerSec: number;
    readonly durationMs: number;
    readonly warmupMs?: number;
    readonly entrypoint?: number;
  },
): SimModel {
  return {
    services,
    entrypoint: options.entrypoint ?? 0,
    arrivals: { ratePerSec: options.ratePerSec, segments: [] },
    durationMs: options.durationMs,
    warmupMs: options.warmupMs ?? 0,
  };
}

/**
 * M/M/c (M/M/1 when servers is 1) through the general engine: one service, one revision, one
 * replica with `servers` slots sharing one FIFO queue, exponential service, no calls.
 */
export function mmcModel(options: {
  readonly ratePerSec: number;
  readonly meanServiceMs: number;
  readonly servers?: number;
  readonly durationMs: number;
  readonly warmupMs?: number;
}): SimModel {
  const station = revision(
    { kind: 'exponential', meanMs: options.meanServiceMs },
    { concurrency: options.servers ?? 1 },
  );
  return network([service('station', [station])], options);
}
