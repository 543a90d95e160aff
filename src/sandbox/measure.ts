/**
 * The measurement of one changed service: its stable and proposed revisions side by side behind the
 * service's sandbox listener (half of the sticky keys each), at each rate, in steps aligned to
 * whole seconds so that the metrics' 1-s windows hold exactly one step's requests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceConfig } from '../config/types.js';
import { FULL_WEIGHT } from '../config/types.js';
import type { WindowAggregate } from '../metrics/provider.js';
import { clockTicksPerSecond, readProcStat, readRssBytes } from '../metrics/builtin/procfs.js';
import type { Endpoint } from '../router/router.js';
import type { DataPlane } from '../server/dataplane.js';
import type { CalleeFigures, LatencyFigures, RevisionMeasurement, StepFigures } from './estimate.js';
import type { SandboxStep } from './options.js';
import type { Candidate } from './plan.js';
import type { Driver } from './traffic.js';

export interface Timing {
  /** Lowest first. */
  readonly rates: readonly number[];
  readonly stepMs: number;
  readonly idleMs: number;
  readonly warmupMs: number;
}

/** Arrivals stop this long before the step's end, so the answers are in before the next second. */
const TAIL_MS = 300;

interface Usage {
  /** CPU seconds used so far, per process. */
  readonly cpu: ReadonlyMap<number, number>;
  readonly rssBytes: number | null;
}

/**
 * CPU seconds a process has used: the sum of its threads' run time in /proc/PID/task/T/schedstat
 * (nanoseconds), else utime + stime from /proc/PID/stat (clock ticks: 10 ms steps, too coarse for
 * a few requests).
 */
function cpuSecondsOf(pid: number): number | null {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8');
      ns += Number(text.slice(0, text.indexOf(' ')));
    }
    if (Number.isFinite(ns)) return ns / 1e9;
  } catch {
    // No schedstat (or the process is gone): the coarse figure.
  }
  const stat = readProcStat(pid);
  return stat === null ? null : (stat.utime + stat.stime) / clockTicksPerSecond();
}

function usageOf(pids: readonly number[]): Usage {
  const cpu = new Map<number, number>();
  let rss: number | null = null;
  for (const pid of pids) {
    const seconds = cpuSecondsOf(pid);
    if (seconds !== null) cpu.set(pid, seconds);
    const bytes = readRssBytes(pid);
    if (bytes !== null) rss = (rss ?? 0) + bytes;
  }
  return { cpu, rssBytes: rss };
}

/** CPU seconds between two readings; a process started in between counts from its start. */
function cpuSeconds(before: Usage, after: Usage): number | null {
  if (after.cpu.size === 0) return null;
  let seconds = 0;
  for (const [pid, s] of after.cpu) seconds += s - (before.cpu.get(pid) ?? 0);
  return seconds;
}

/** Slack after a whole second within which a step may still start at that second. */
const START_SLACK_MS = 60;

/**
 * The whole second a step starts at: `previous` (where the last step ended) when it has only just
 * passed — nothing ran in between — else the next one, waited for.
 */
async function stepStart(previous: number | null, signal: AbortSignal): Promise<number> {
  const now = Date.now();
  if (previous !== null && now - previous < START_SLACK_MS) return previous;
  return nextSecond(signal);
}

/** Waits for the next whole second and returns it (ms since the epoch). */
async function nextSecond(signal: AbortSignal): Promise<number> {
  const now = Date.now();
  const boundary = Math.floor(now / 1000) * 1000 + 1000;
  await sleep(boundary - now + 2, undefined, { signal });
  return boundary;
}

/**
 * The hop: the median round trip of the revision's health check, sent straight to its replicas.
 * The latency the router measures includes it; the time a request holds a slot does not.
 */
async function hopMs(
  endpoints: readonly Endpoint[],
  path: string,
  signal: AbortSignal,
): Promise<number | null> {
  if (endpoints.length === 0) return null;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < HOP_PROBES; i++) {
      signal.throwIfAborted();
      const { host, port } = endpoints[i % endpoints.length] as Endpoint;
      const began = performance.now();
      const ok = await new Promise<boolean>((resolve) => {
        const req = get({ host, port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve((res.statusCode ?? 0) < 400));
        });
        req.on('error', () => resolve(false));
      });
      // The first round trips of each connection pay for its opening.
      if (ok && i >= endpoints.length) times.push(performance.now() - began);
    }
  } finally {
    agent.destroy();
  }
  times.sort((a, b) => a - b);
  return times.length === 0 ? null : (times[Math.floor(times.length / 2)] as number);
}

const HOP_PROBES = 40;

function latencyOf(a: WindowAggregate): LatencyFigures | null {
  const { p50, p95, p99, mean } = a.latency;
  if (p50 === null || p95 === null || p99 === null || mean === null) return null;
  return { p50, p95, p99, mean };
}

const ms = (n: number): string => (n >= 10 ? n.toFixed(1) : n.toFixed(2));

export async function measureCandidate(
  plane: DataPlane,
  service: ServiceConfig,
  candidate: Candidate,
  drive: Driver,
  timing: Timing,
  signal: AbortSignal,
  say: (message: string) => void,
  /** Called after the warm-up and each step: throws to stop the measurement. */
  check: () => void = () => undefined,
): Promise<{ measurements: RevisionMeasurement[]; steps: SandboxStep[] }> {
  const name = candidate.service;
  const revisions = [...new Set([candidate.stable, candidate.proposed])];
  const pidsOf = (revision: string): number[] =>
    plane.runtime
      .processes()
      .filter((p) => p.service === name && p.revision === revision)
      .map((p) => p.pid);
  // Side by side: half of the keys go to each revision (sticky buckets), so that whatever else
  // the machine does at the time weighs on both alike. The listener gets the rate once per revision.
  const share = revisions.length;
  await plane.setTraffic(name, candidate.proposed, share === 1 ? 0 : FULL_WEIGHT / 2);
  const lowest = timing.rates[0] ?? 1;

  if (timing.warmupMs > 0) await drive(lowest * share, timing.warmupMs, signal);
  check();
  const hops = new Map<string, number | null>();
  for (const revision of revisions)
    hops.set(revision, await hopMs(plane.runtime.endpoints(name, revision), service.healthPath, signal));
  say(`${name}: measuring idle CPU for ${timing.idleMs} ms`);
  const idleFrom = new Map(revisions.map((r) => [r, usageOf(pidsOf(r))]));
  await sleep(timing.idleMs, undefined, { signal });
  const idle = new Map(
    revisions.map((r) => {
      const after = usageOf(pidsOf(r));
      const seconds = cpuSeconds(idleFrom.get(r) as Usage, after);
      return [r, { cores: seconds === null ? null : seconds / (timing.idleMs / 1000), rss: after.rssBytes }];
    }),
  );

  const steps: SandboxStep[] = [];
  let previous: number | null = null;
  for (const rate of timing.rates) {
    const from = await stepStart(previous, signal);
    const before = new Map(revisions.map((r) => [r, usageOf(pidsOf(r))]));
    const sent = await drive(rate * share, Math.max(200, timing.stepMs - TAIL_MS), signal);
    const to = await nextSecond(signal);
    previous = to;
    check();
    const own = new Map<string, WindowAggregate>();
    for (const revision of revisions)
      own.set(revision, await plane.metrics.aggregate({ service: name, revision, from, to }));
    const served = [...own.values()].reduce((sum, a) => sum + a.requests, 0);
    const callees: CalleeFigures[] = [];
    for (const call of service.calls) {
      const callee = await plane.metrics.aggregate({
        service: call.service,
        revision: plane.stableOf(call.service),
        from,
        to,
      });
      callees.push({
        service: call.service,
        mode: call.mode,
        perRequest: call.perRequest,
        callsPerRequest: served > 0 && callee.requests > 0 ? callee.requests / served : null,
        latency: latencyOf(callee),
      });
    }
    const lines: string[] = [];
    for (const revision of revisions) {
      const a = own.get(revision) as WindowAggregate;
      const after = usageOf(pidsOf(revision));
      const step: StepFigures = {
        rate,
        durationMs: to - from,
        requests: a.requests,
        errors: a.errors,
        latency: latencyOf(a),
        callees,
        cpuSeconds: cpuSeconds(before.get(revision) as Usage, after),
        rssBytes: after.rssBytes,
      };
      steps.push({ service: name, revision, ...step });
      const l = step.latency;
      lines.push(
        `${revision} ${a.requests} requests, ${a.errors} errors` +
          (l === null ? '' : `, latency p50 ${ms(l.p50)} ms, mean ${ms(l.mean)} ms`) +
          (step.cpuSeconds === null || a.requests === 0
            ? ''
            : `, CPU ${ms((step.cpuSeconds * 1000) / a.requests)} ms/request`),
      );
    }
    say(`${name} at ${rate} req/s per revision (${sent.sent} sent): ${lines.join('; ')}`);
  }
  const measurements = revisions.map((revision): RevisionMeasurement => ({
    service: name,
    revision,
    idleCpuCores: idle.get(revision)?.cores ?? null,
    hopMs: hops.get(revision) ?? null,
    processes: pidsOf(revision).length,
    rssBeforeBytes: idle.get(revision)?.rss ?? null,
    steps: steps.filter((s) => s.revision === revision),
  }));
  return { measurements, steps };
}
