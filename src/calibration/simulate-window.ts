import type { RevisionStats, SimModel } from '../sim/model.js';
import { simulate } from '../sim/simulate.js';
import type { SimulatedWindow, WindowProfile } from './features.js';

/** Standard normal 95% quantile. */
const Z95 = 1.6448536269514722;
/** Requests a window's simulation aims for; bounded in simulated time either way. */
const TARGET_REQUESTS = 2_000;
const MIN_SECONDS = 20;
const MAX_SECONDS = 300;

export interface WindowLoad {
  readonly ratePerSec: number;
  readonly replicas: number;
  readonly concurrency: number;
  readonly cpuPerReplica: number;
  readonly timeoutMs: number;
  /** Probability of an error from the revision's profile (its past error rate). */
  readonly errorProbability: number;
}

/**
 * What the simulator predicts for one revision at one load: the revision as a lone station (its
 * slot time is its whole latency, calls included, log-normal from the profile's p50 and p95),
 * Poisson arrivals at the window's rate. Deterministic for a seed.
 */
export function simulateWindow(load: WindowLoad, profile: WindowProfile, seed: number): SimulatedWindow {
  const rate = Math.max(1e-3, load.ratePerSec);
  const seconds = Math.min(MAX_SECONDS, Math.max(MIN_SECONDS, TARGET_REQUESTS / rate));
  const medianMs = Math.max(0.01, profile.p50Ms);
  const sigma = profile.p95Ms > medianMs ? Math.min(3, Math.log(profile.p95Ms / medianMs) / Z95) : 0.1;
  const model: SimModel = {
    services: [
      {
        name: 'window',
        revisions: [
          {
            name: 'revision',
            share: 1,
            replicas: Math.max(1, load.replicas),
            concurrency: Math.max(1, load.concurrency),
            cpuCores: Math.max(1e-3, load.cpuPerReplica),
            serviceTime: { kind: 'lognormal', medianMs, sigma },
            cpuMsPerRequest: Math.max(0, profile.cpuMsPerRequest),
            errorProbability: Math.min(1, Math.max(0, load.errorProbability)),
          },
        ],
        timeoutMs: load.timeoutMs,
        retries: 0,
        calls: [],
      },
    ],
    entrypoint: 0,
    arrivals: { ratePerSec: rate, segments: [] },
    durationMs: seconds * 1000,
    warmupMs: Math.min(10_000, (seconds * 1000) / 10),
  };
  const stats = simulate(model, seed).services[0]?.revisions[0];
  if (stats === undefined) throw new Error('the window simulation returned no revision');
  return simulatedWindowOf(stats, rate, profile.cpuMsPerRequest);
}

/** A simulated revision's figures as the model reads them; CPU is the rate × CPU per request. */
export function simulatedWindowOf(
  stats: RevisionStats,
  ratePerSec: number,
  cpuMsPerRequest: number,
): SimulatedWindow {
  return {
    latencyP50Ms: stats.latencyMs.p50,
    latencyP95Ms: stats.latencyMs.p95,
    latencyP99Ms: stats.latencyMs.p99,
    errorRate: stats.errorRate,
    cpuCores: (ratePerSec * Math.max(0, cpuMsPerRequest)) / 1000,
    slotUtilisation: stats.slotUtilisation,
  };
}
