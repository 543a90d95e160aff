/**
 * From what the sandbox measured to a ServiceProfile. Pure: the figures come in, the profile and
 * what is worth saying about it go out. The approximations (docs/sandbox.md):
 *
 * - Own service time = the revision's latency at its router minus the hop (the median round trip of
 *   its health check, sent straight to a replica: parsing, loopback, answering — outside the slot)
 *   minus the time spent in its calls, each
 *   callee's latency at its own router: sequential calls count `calls per request` times, parallel
 *   calls as the slowest of them. Calls per request are measured (callee requests / caller
 *   requests in the step, both revisions together), else the configured `perRequest`. For the mean this is exact up to the
 *   hop's own overhead (means add); for quantiles it is an approximation (quantiles do not), floored
 *   at MIN_SERVICE_MS and kept monotone.
 * - The distribution is a lognormal whose sigma comes from p95/p50 and whose median is chosen so
 *   that its mean is the measured own mean: the mean is the better estimate, and it is what
 *   utilisation depends on.
 * - Service time comes from the step whose own mean is least: queueing (at high rates) and wake-up
 *   costs of an idle process (at low rates) only ever add to it. Error probability comes from the
 *   lowest rate.
 * - CPU per request: CPU seconds of the revision's processes over every step, minus the idle CPU
 *   rate measured before the load, over the requests served.
 * - Memory growth: least-squares slope of resident memory (summed over the revision's processes, at
 *   the end of each step) against requests served. Growth below MEMORY_NOISE_MB_PER_PROCESS per
 *   process over the whole run is reported as 0: a runtime sizing its heap moves resident memory
 *   by that much within a bounded run (Node's young generation alone grows by megabytes).
 */
import type { ServiceTimeDistribution } from '../sim/model.js';
import type { ServiceProfile } from '../sim/profile.js';

export interface LatencyFigures {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly mean: number;
}

export interface CalleeFigures {
  readonly service: string;
  readonly mode: 'sequential' | 'parallel';
  /** The configured mean calls per request. */
  readonly perRequest: number;
  /** Measured: the callee's requests over the caller's in the step; null when either had none. */
  readonly callsPerRequest: number | null;
  readonly latency: LatencyFigures | null;
}

/** One load step of one revision. */
export interface StepFigures {
  /** Offered rate, requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly latency: LatencyFigures | null;
  readonly callees: readonly CalleeFigures[];
  /** CPU seconds the revision's processes used during the step; null when unknown. */
  readonly cpuSeconds: number | null;
  /** Resident memory of the revision's processes at the end of the step. */
  readonly rssBytes: number | null;
}

export interface RevisionMeasurement {
  readonly service: string;
  readonly revision: string;
  /** Round trip of a trivial request straight to the revision (subtracted from its own time). */
  readonly hopMs: number | null;
  /** CPU cores the processes used with no load (subtracted from every step). */
  readonly idleCpuCores: number | null;
  /** Resident memory before the first step. */
  readonly rssBeforeBytes: number | null;
  /** Processes (replicas) of the revision. */
  readonly processes: number;
  readonly steps: readonly StepFigures[];
}

export const MIN_SERVICE_MS = 0.05;
export const MEMORY_NOISE_MB_PER_PROCESS = 8;
const Z95 = 1.6448536269514722;
const MIB = 1024 * 1024;

/** Time in calls for one latency statistic, per the module's rules. */
function callTime(step: StepFigures, pick: (l: LatencyFigures) => number): number {
  let sequential = 0;
  let parallel = 0;
  for (const callee of step.callees) {
    if (callee.latency === null) continue;
    const perRequest = callee.callsPerRequest ?? callee.perRequest;
    if (callee.mode === 'parallel') parallel = Math.max(parallel, pick(callee.latency));
    else sequential += perRequest * pick(callee.latency);
  }
  return sequential + parallel;
}

/**
 * The revision's own service time in one step (calls and the hop excluded), or null without
 * latencies.
 */
export function ownServiceTime(step: StepFigures, hopMs = 0): LatencyFigures | null {
  const latency = step.latency;
  if (latency === null) return null;
  const own = (pick: (l: LatencyFigures) => number): number =>
    Math.max(MIN_SERVICE_MS, pick(latency) - callTime(step, pick) - hopMs);
  const p50 = own((l) => l.p50);
  const p95 = Math.max(
    p50,
    own((l) => l.p95),
  );
  const p99 = Math.max(
    p95,
    own((l) => l.p99),
  );
  return { p50, p95, p99, mean: own((l) => l.mean) };
}

/** A lognormal with sigma from p95/p50 and the given mean (see the module comment). */
export function fitLognormal(own: LatencyFigures): ServiceTimeDistribution {
  const ratio = own.p95 / own.p50;
  const sigma = Math.min(2.5, Math.max(0.01, ratio > 1 ? Math.log(ratio) / Z95 : 0.01));
  const medianMs = Math.max(MIN_SERVICE_MS, own.mean / Math.exp((sigma * sigma) / 2));
  return { kind: 'lognormal', medianMs, sigma };
}

/** Least-squares slope of y against x; null with fewer than two distinct x. */
export function slope(points: readonly (readonly [number, number])[]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
  }
  return sxx > 0 ? sxy / sxx : null;
}

export interface Estimate {
  readonly profile: ServiceProfile;
  readonly notes: string[];
}

/** The profile of one revision, or null when it served no request with a latency. */
export function estimateProfile(m: RevisionMeasurement): Estimate | null {
  const notes: string[] = [];
  const name = `${m.service} ${m.revision}`;
  const served = m.steps.filter((s) => s.requests > 0 && s.latency !== null);
  const lowest = [...served].sort((a, b) => a.rate - b.rate)[0];
  if (lowest === undefined) return null;
  let own = ownServiceTime(lowest, m.hopMs ?? 0) as LatencyFigures;
  for (const step of served) {
    const candidate = ownServiceTime(step, m.hopMs ?? 0) as LatencyFigures;
    if (candidate.mean < own.mean) own = candidate;
  }
  const requests = m.steps.reduce((sum, s) => sum + s.requests, 0);

  let cpuSeconds = 0;
  let cpuRequests = 0;
  for (const step of m.steps) {
    if (step.cpuSeconds === null || step.requests === 0) continue;
    cpuSeconds += Math.max(0, step.cpuSeconds - (m.idleCpuCores ?? 0) * (step.durationMs / 1000));
    cpuRequests += step.requests;
  }
  if (cpuRequests === 0) notes.push(`${name}: CPU could not be read from /proc; CPU per request is 0`);

  let memoryGrowthMbPer1k = 0;
  const points: [number, number][] = [];
  let count = 0;
  for (const step of m.steps) {
    count += step.requests;
    if (step.rssBytes !== null) points.push([count / 1000, step.rssBytes / MIB]);
  }
  // Before the first step the heaps have not grown to their working size: that point only when
  // there is no other pair.
  if (points.length < 2 && m.rssBeforeBytes !== null) points.unshift([0, m.rssBeforeBytes / MIB]);
  const perK = slope(points);
  const floor = MEMORY_NOISE_MB_PER_PROCESS * Math.max(1, m.processes);
  if (perK !== null && perK > 0 && (perK * requests) / 1000 >= floor) memoryGrowthMbPer1k = perK;

  return {
    profile: {
      service: m.service,
      revision: m.revision,
      serviceTime: fitLognormal(own),
      serviceTimeMs: own,
      // Over every step: the rates are those production sees (½ to 1.5 × its peak), and a single
      // step's few requests would turn a 5% error rate into 0 as often as not.
      errorProbability: requests > 0 ? m.steps.reduce((sum, s) => sum + s.errors, 0) / requests : 0,
      cpuMsPerRequest: cpuRequests > 0 ? (cpuSeconds * 1000) / cpuRequests : 0,
      memoryGrowthMbPer1k,
      requests,
      source: 'sandbox',
    },
    notes,
  };
}
