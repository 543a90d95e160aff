import type { SimModel } from './model.js';

/**
 * A SimModel checked and flattened into typed arrays, so the engine's hot loop reads numbers by
 * index instead of walking objects. Revisions and replicas get global indices: service s owns
 * revisions [serviceRevStart[s], serviceRevStart[s+1]), revision r owns replicas
 * [revReplicaStart[r], revReplicaStart[r+1]); calls likewise by serviceCallStart.
 */
export interface CompiledModel {
  readonly serviceCount: number;
  readonly revisionCount: number;
  readonly replicaCount: number;
  readonly serviceRevStart: Int32Array;
  /** +Infinity when the service's callers never give up. */
  readonly serviceTimeout: Float64Array;
  readonly serviceRetries: Int32Array;
  readonly serviceCallStart: Int32Array;
  readonly callService: Int32Array;
  readonly callWhole: Int32Array;
  readonly callFraction: Float64Array;
  readonly callParallel: Uint8Array;
  readonly revService: Int32Array;
  /** Cumulative share within the service (the last revision's is 1). */
  readonly revShareCum: Float64Array;
  readonly revReplicaStart: Int32Array;
  readonly revConcurrency: Int32Array;
  readonly revErrorProbability: Float64Array;
  /** Arrival segments: from segmentFrom[i] (ms) the rate is segmentRate[i] per ms. */
  readonly segmentFrom: Float64Array;
  readonly segmentRate: Float64Array;
}

/** A model the engine cannot run. The message names the offending field. */
export class SimModelError extends RangeError {
  readonly code = 'SIM_MODEL_INVALID';
  override readonly name = 'SimModelError';
}

const fail = (path: string, rule: string): never => {
  throw new SimModelError(`${path} ${rule}`);
};
const finiteAtLeast = (value: number, min: number, path: string): void => {
  if (!(Number.isFinite(value) && value >= min))
    fail(path, `must be a finite number ≥ ${min} (got ${value})`);
};
const wholeAtLeast = (value: number, min: number, path: string): void => {
  if (!(Number.isInteger(value) && value >= min))
    fail(path, `must be a whole number ≥ ${min} (got ${value})`);
};

/** Checks the model (throws SimModelError) and flattens it. */
export function compileModel(model: SimModel): CompiledModel {
  const services = model.services;
  if (services.length === 0) fail('services', 'must not be empty');
  wholeAtLeast(model.entrypoint, 0, 'entrypoint');
  if (model.entrypoint >= services.length)
    fail('entrypoint', `must index services (got ${model.entrypoint})`);
  finiteAtLeast(model.durationMs, Number.MIN_VALUE, 'durationMs');
  finiteAtLeast(model.warmupMs, 0, 'warmupMs');
  finiteAtLeast(model.arrivals.ratePerSec, 0, 'arrivals.ratePerSec');

  const revisionCount = services.reduce((n, s) => n + s.revisions.length, 0);
  const callCount = services.reduce((n, s) => n + s.calls.length, 0);
  const serviceRevStart = new Int32Array(services.length + 1);
  const serviceTimeout = new Float64Array(services.length);
  const serviceRetries = new Int32Array(services.length);
  const serviceCallStart = new Int32Array(services.length + 1);
  const callService = new Int32Array(callCount);
  const callWhole = new Int32Array(callCount);
  const callFraction = new Float64Array(callCount);
  const callParallel = new Uint8Array(callCount);
  const revService = new Int32Array(revisionCount);
  const revShareCum = new Float64Array(revisionCount);
  const revReplicaStart = new Int32Array(revisionCount + 1);
  const revConcurrency = new Int32Array(revisionCount);
  const revErrorProbability = new Float64Array(revisionCount);

  let r = 0;
  let c = 0;
  let replicas = 0;
  for (const [s, service] of services.entries()) {
    const at = `services[${s}]`;
    if (service.revisions.length === 0) fail(`${at}.revisions`, 'must not be empty');
    if (!(service.timeoutMs > 0))
      fail(`${at}.timeoutMs`, `must be > 0 or Infinity (got ${service.timeoutMs})`);
    wholeAtLeast(service.retries, 0, `${at}.retries`);
    serviceRevStart[s] = r;
    serviceTimeout[s] = service.timeoutMs;
    serviceRetries[s] = service.retries;
    let share = 0;
    for (const [i, revision] of service.revisions.entries()) {
      const rat = `${at}.revisions[${i}]`;
      if (!(revision.share >= 0 && revision.share <= 1)) fail(`${rat}.share`, 'must be in [0, 1]');
      wholeAtLeast(revision.replicas, 1, `${rat}.replicas`);
      wholeAtLeast(revision.concurrency, 1, `${rat}.concurrency`);
      finiteAtLeast(revision.cpuCores, Number.MIN_VALUE, `${rat}.cpuCores`);
      finiteAtLeast(revision.cpuMsPerRequest, 0, `${rat}.cpuMsPerRequest`);
      if (!(revision.errorProbability >= 0 && revision.errorProbability <= 1))
        fail(`${rat}.errorProbability`, 'must be in [0, 1]');
      checkDistribution(revision.serviceTime, `${rat}.serviceTime`);
      share += revision.share;
      revService[r] = s;
      revShareCum[r] = share;
      revReplicaStart[r] = replicas;
      revConcurrency[r] = revision.concurrency;
      revErrorProbability[r] = revision.errorProbability;
      replicas += revision.replicas;
      r++;
    }
    if (Math.abs(share - 1) > 1e-6) fail(`${at}.revisions`, `shares must sum to 1 (got ${share})`);
    revShareCum[r - 1] = 1;
    serviceCallStart[s] = c;
    for (const [i, call] of service.calls.entries()) {
      const cat = `${at}.calls[${i}]`;
      wholeAtLeast(call.service, 0, `${cat}.service`);
      if (call.service >= services.length)
        fail(`${cat}.service`, `must index services (got ${call.service})`);
      finiteAtLeast(call.perRequest, 0, `${cat}.perRequest`);
      callService[c] = call.service;
      callWhole[c] = Math.floor(call.perRequest);
      callFraction[c] = call.perRequest - Math.floor(call.perRequest);
      callParallel[c] = call.mode === 'parallel' ? 1 : 0;
      c++;
    }
  }
  serviceRevStart[services.length] = r;
  serviceCallStart[services.length] = c;
  revReplicaStart[revisionCount] = replicas;
  checkAcyclic(model);

  const segments = model.arrivals.segments;
  const segmentFrom = new Float64Array(segments.length + 1);
  const segmentRate = new Float64Array(segments.length + 1);
  segmentRate[0] = model.arrivals.ratePerSec / 1000;
  for (const [i, segment] of segments.entries()) {
    if (Number.isNaN(segment.fromMs)) fail(`arrivals.segments[${i}].fromMs`, 'must be a number');
    if (i > 0 && segment.fromMs < (segments[i - 1]?.fromMs ?? 0))
      fail(`arrivals.segments[${i}].fromMs`, 'must not decrease');
    finiteAtLeast(segment.multiplier, 0, `arrivals.segments[${i}].multiplier`);
    segmentFrom[i + 1] = segment.fromMs;
    segmentRate[i + 1] = (model.arrivals.ratePerSec * segment.multiplier) / 1000;
  }

  return {
    serviceCount: services.length,
    revisionCount,
    replicaCount: replicas,
    serviceRevStart,
    serviceTimeout,
    serviceRetries,
    serviceCallStart,
    callService,
    callWhole,
    callFraction,
    callParallel,
    revService,
    revShareCum,
    revReplicaStart,
    revConcurrency,
    revErrorProbability,
    segmentFrom,
    segmentRate,
  };
}

function checkDistribution(
  d: SimModel['services'][number]['revisions'][number]['serviceTime'],
  at: string,
): void {
  switch (d.kind) {
    case 'deterministic':
      return finiteAtLeast(d.ms, 0, `${at}.ms`);
    case 'exponential':
      return finiteAtLeast(d.meanMs, Number.MIN_VALUE, `${at}.meanMs`);
    case 'lognormal':
      finiteAtLeast(d.medianMs, Number.MIN_VALUE, `${at}.medianMs`);
      return finiteAtLeast(d.sigma, 0, `${at}.sigma`);
    case 'empirical':
      if (d.samplesMs.length === 0) fail(`${at}.samplesMs`, 'must not be empty');
      for (const [i, x] of d.samplesMs.entries()) finiteAtLeast(x, 0, `${at}.samplesMs[${i}]`);
      return;
    default:
      fail(`${at}.kind`, `is unknown (${(d as { kind: unknown }).kind as string})`);
  }
}

/** A call cycle would make every request spawn work without end. */
function checkAcyclic(model: SimModel): void {
  const state = new Uint8Array(model.services.length); // 0 new, 1 on the path, 2 done
  const visit = (s: number, path: readonly number[]): void => {
    if (state[s] === 2) return;
    if (state[s] === 1) {
      const names = [...path.slice(path.indexOf(s)), s].map((i) => model.services[i]?.name ?? String(i));
      fail('services', `must not call each other in a cycle (${names.join(' → ')})`);
    }
    state[s] = 1;
    for (const call of model.services[s]?.calls ?? []) visit(call.service, [...path, s]);
    state[s] = 2;
  };
  for (let s = 0; s < model.services.length; s++) visit(s, []);
}
