import type { Engine } from './engine.js';
import type { RevisionStats, ServiceStats, SimModel, SimRunResult } from './model.js';

/** Turns the engine's counters into the run's result (figures over the measured period only). */
export function buildResult(model: SimModel, engine: Engine, seed: number): SimRunResult {
  const duration = model.durationMs;
  let rev = 0;
  const services: ServiceStats[] = model.services.map((service, s) => {
    const revisions: RevisionStats[] = service.revisions.map((revision) => {
      const r = rev++;
      const requests = engine.revRequests[r] ?? 0;
      const errors = engine.revErrors[r] ?? 0;
      const timeouts = engine.revTimeouts[r] ?? 0;
      const completed = engine.revCompleted[r] ?? 0;
      const started = engine.revStarted[r] ?? 0;
      return {
        service: service.name,
        revision: revision.name,
        requests,
        errors,
        timeouts,
        latencyMs: engine.revLatency[r]?.summary() ?? { p50: 0, p95: 0, p99: 0, mean: 0 },
        errorRate: requests === 0 ? 0 : (errors + timeouts) / requests,
        cpuUtilisation:
          (completed * revision.cpuMsPerRequest) / (revision.replicas * revision.cpuCores * duration),
        slotUtilisation: (engine.revBusyArea[r] ?? 0) / duration / (revision.replicas * revision.concurrency),
        meanQueueLength: (engine.revQueueArea[r] ?? 0) / duration,
        maxQueueLength: engine.revMaxQueue[r] ?? 0,
        meanWaitMs: started === 0 ? 0 : (engine.revWaitSum[r] ?? 0) / started,
        waitedFraction: started === 0 ? 0 : (engine.revWaited[r] ?? 0) / started,
      };
    });
    const calls = engine.serviceCalls[s] ?? 0;
    const attempts = engine.serviceAttempts[s] ?? 0;
    return {
      service: service.name,
      calls,
      attempts,
      retryAmplification: calls === 0 ? 1 : attempts / calls,
      revisions,
    };
  });
  const entryRequests = engine.serviceCalls[model.entrypoint] ?? 0;
  return {
    seed,
    events: engine.events,
    services,
    entry: {
      requests: entryRequests,
      errorRate: entryRequests === 0 ? 0 : engine.entryErrors / entryRequests,
      latencyMs: engine.entryLatency.summary(),
    },
  };
}
