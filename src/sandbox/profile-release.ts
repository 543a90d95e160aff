/**
 * Sandbox profiling of a release: the proposed revisions and their stable counterparts run beside
 * stable copies of their dependencies, on free loopback ports, over copies of their data, driven by
 * replayed production requests at several rates, and measured into ServiceProfiles. Everything is
 * stopped afterwards, also on abort, on a thrown error, and on the process's exit (docs/sandbox.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AugurError } from '../core/errors.js';
import type {
  ApplicationConfig,
  DeploymentConfiguration,
  ReleaseConfig,
  ServiceConfig,
} from '../config/types.js';
import { applicationDir } from '../config/types.js';
import { killGroup } from '../runtime/process/signals.js';
import { DataPlane } from '../server/dataplane.js';
import type { DataPlaneEvent } from '../server/dataplane.js';
import type { ServiceProfile } from '../sim/profile.js';
import type { Store } from '../store/store.js';
import { ProcessGuard, processesOf, reapStaleSandboxes, SANDBOX_PREFIX } from './cleanup.js';
import { changedFiles, copyEnv, fileStates, makeCopies, planDataCopies } from './data-copies.js';
import { writesOutside } from './data-guard.js';
import { estimateProfile } from './estimate.js';
import { measureCandidate } from './measure.js';
import type { SandboxOptions, SandboxResult, SandboxStep } from './options.js';
import { calleeClosure, planSandbox, sandboxApplication } from './plan.js';
import { timingFor } from './timing.js';
import { captureThroughEntrypoint, describeSource, driverFor, trafficSources } from './traffic.js';
import type { TrafficSource } from './traffic.js';

/**
 * Profiles, for each service the release changes, its stable revision and the proposed one.
 * Rejects with AugurError SANDBOX_ABORTED when `options.signal` aborts; nothing keeps running
 * either way.
 */
export async function profileRelease(
  config: DeploymentConfiguration,
  release: ReleaseConfig,
  options: SandboxOptions = {},
): Promise<SandboxResult> {
  const say = options.onProgress ?? (() => undefined);
  if (options.signal?.aborted === true) throw aborted(null);
  const controller = new AbortController();
  const signal = controller.signal;
  const onAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const notes: string[] = [];
  const parent = options.tmpDir ?? tmpdir();
  const reaped = reapStaleSandboxes(parent);
  if (reaped.dirs.length > 0)
    notes.push(
      `stopped ${reaped.processes} process(es) of ${reaped.dirs.length} earlier sandbox(es) whose Augur had died`,
    );
  const stateDir = mkdtempSync(join(parent, SANDBOX_PREFIX));
  const guard = new ProcessGuard(onAbort);
  guard.install();
  let plane: DataPlane | null = null;
  try {
    const app = config.application;
    const stables = await productionStables(app, options.store);
    const stableOf = (service: string): string => stables.get(service) ?? app.services[service]?.stable ?? '';
    const sources = await trafficSources(app, release, options);
    const capture = [...sources].filter(([, s]) => s === null).map(([service]) => service);
    const plan = planSandbox(app, release, stableOf, capture.length > 0);

    const baseDir = options.baseDir ?? applicationDir(app);
    const dataDir = join(stateDir, 'data');
    const data = planDataCopies({
      app,
      release,
      services: plan.revisions.keys(),
      ...(options.dataFiles === undefined ? {} : { dataFiles: options.dataFiles }),
      baseDir,
      inheritedEnv: process.env,
      dataDir,
    });
    const watched = fileStates(data.watched);
    await makeCopies(data, dataDir);
    for (const c of data.copies)
      notes.push(
        `data: ${c.source} (${c.reason}) ${c.existed ? 'copied to' : 'does not exist; fresh file at'} ${c.copy}` +
          (c.vars.length > 0 ? ` for ${c.vars.join(', ')}` : ''),
      );
    notes.push(...data.notes);
    const sandboxApp = sandboxApplication(app, plan, stateDir, (service, spec) => ({
      ...spec.env,
      ...copyEnv(data, service, spec.name),
    }));

    const running = [...plan.revisions].map(([s, revs]) => `${s} ${revs.join('+')}`).join(', ');
    say(`starting ${running} in ${stateDir}`);
    plane = await DataPlane.start({
      app: sandboxApp,
      portOverride: () => 0,
      runtime: {
        graceMs: 2_000,
        ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
      },
      onEvent: (event) => onPlaneEvent(event, guard, notes),
    });
    // The proposed revisions start now too, so that every process runs before the first measurement.
    for (const c of plan.candidates) {
      const service = sandboxApp.services[c.service] as ServiceConfig;
      if (c.proposed !== c.stable) await plane.runtime.start(service, c.proposed);
    }
    options.onStarted?.({ stateDir, pids: guard.pids });
    signal.throwIfAborted();
    const sandboxPlane = plane;
    const checkData = (): void => refuseProductionWrites(sandboxPlane, stateDir);
    checkData();

    const traffic = new Map<string, TrafficSource>();
    for (const [service, source] of sources) if (source !== null) traffic.set(service, source);
    if (capture.length > 0) {
      for (const [service, source] of await captureThroughEntrypoint(
        plane,
        app,
        capture,
        options,
        signal,
        say,
      ))
        traffic.set(service, source);
      // What ran only to produce that traffic is not needed any more.
      const needed = calleeClosure(
        app,
        plan.candidates.map((c) => c.service),
      );
      for (const service of plan.revisions.keys())
        if (!needed.has(service)) await plane.runtime.stop(service, stableOf(service));
    }

    const profiles: ServiceProfile[] = [];
    const steps: SandboxStep[] = [];
    for (const [i, c] of plan.candidates.entries()) {
      const timing = await timingFor(c, options, capture.length > 0, plan.candidates.length);
      const source = traffic.get(c.service) as TrafficSource;
      notes.push(
        `${c.service}: ${describeSource(source)}; rates ${timing.rates.join(', ')} req/s, ${timing.stepMs} ms each`,
      );
      if (c.proposed === c.stable)
        notes.push(`${c.service}: the release proposes the revision already running (${c.stable})`);
      const port = plane.router.address(c.service).port;
      const drive = driverFor(source, port, (options.seed ?? 1) + i * 7919);
      const service = sandboxApp.services[c.service] as ServiceConfig;
      const measured = await measureCandidate(plane, service, c, drive, timing, signal, say, checkData);
      steps.push(...measured.steps);
      for (const m of measured.measurements) {
        const estimate = estimateProfile(m);
        if (estimate === null) {
          notes.push(`${m.service} ${m.revision}: served no request in the sandbox; no profile`);
          continue;
        }
        profiles.push(estimate.profile);
        notes.push(...estimate.notes);
      }
    }
    notes.push(...changedFiles(watched));
    return { profiles, notes, steps, stateDir, pids: guard.pids, refused: null };
  } catch (error) {
    if (error instanceof Refusal) {
      notes.push(error.message);
      return { profiles: [], notes, steps: [], stateDir, pids: guard.pids, refused: error.message };
    }
    if (signal.aborted) throw aborted(error);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (plane !== null) await plane.stop().catch(() => undefined);
    // Whatever the data plane could not stop: by PID, then by the state directory in /proc.
    guard.killAll();
    for (const pid of processesOf(stateDir)) killGroup(pid, 'SIGKILL');
    if (options.keepDir !== true) rmSync(stateDir, { recursive: true, force: true });
    guard.uninstall();
  }
}

/** The sandbox found a process writing production data: an outcome, returned, not thrown. */
class Refusal extends Error {}

/** Throws a Refusal when a sandbox process holds a file outside the sandbox open for writing. */
function refuseProductionWrites(plane: DataPlane, stateDir: string): void {
  const processes = plane.runtime.processes();
  const writes = writesOutside(
    processes.map((p) => p.pid),
    stateDir,
  );
  if (writes.length === 0) return;
  const who = (pid: number): string => {
    const p = processes.find((q) => q.pid === pid);
    return p === undefined ? `pid ${pid}` : `${p.service} ${p.revision} (pid ${pid})`;
  };
  throw new Refusal(
    `sandbox stopped: ${writes.map((w) => `${who(w.pid)} holds ${w.path} open for writing`).join('; ')}, ` +
      'outside the sandbox — production data no copy covers. Name the file in dataFiles ' +
      '(service → environment variable → path) or in the revision’s env, so the sandbox can give it a copy',
  );
}

function aborted(cause: unknown): AugurError {
  return new AugurError('SANDBOX_ABORTED', 'the sandbox was stopped before it finished', { cause });
}

function onPlaneEvent(event: DataPlaneEvent, guard: ProcessGuard, notes: string[]): void {
  if (event.type === 'started') guard.add(event.pid);
  else if (event.type === 'crashed')
    notes.push(
      `${event.service} ${event.revision} replica ${event.replica} crashed in the sandbox ` +
        `(${event.signal ?? `exit code ${event.code ?? '?'}`})`,
    );
}

/** Revisions promoted since the configuration was written, as the production store records them. */
async function productionStables(
  app: ApplicationConfig,
  store: Store | undefined,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const record of (await store?.listTraffic()) ?? []) {
    const stable = record.stableRevision;
    if (stable != null && app.services[record.service]?.revisions[stable] !== undefined)
      out.set(record.service, stable);
  }
  return out;
}
