import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inheritedEnv } from '../../core/child-env.js';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { AugurError } from '../../core/errors.js';
import { own } from '../../core/own.js';
import type { ServiceConfig } from '../../config/types.js';
import type { Endpoint } from '../../router/router.js';
import type { Store } from '../../store/store.js';
import type { InstanceInfo, InstanceState, Runtime, RuntimeEvent, RuntimeObserver } from '../runtime.js';
import { probe } from './health.js';
import { freePort } from './ports.js';
import { processStartTicks } from './procfs.js';
import { killGroup } from './signals.js';

export interface ProcessRuntimeOptions {
  readonly stateDir: string;
  readonly store: Store;
  /** Identifies this run in the store's process records. */
  readonly owner: string;
  /** Extra environment for every process: where the services' routers listen (AUGUR_URL_*). */
  readonly sharedEnv: Readonly<Record<string, string>>;
  readonly observer?: RuntimeObserver;
  readonly clock?: Clock;
  readonly readyTimeoutMs?: number;
  readonly graceMs?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Uptime after which a restarted instance counts as healthy again (backoff resets). */
  readonly stableAfterMs?: number;
  readonly crashLoopCrashes?: number;
  readonly crashLoopWindowMs?: number;
}

interface Instance {
  readonly service: ServiceConfig;
  readonly revision: string;
  readonly replica: number;
  readonly logFile: string;
  port: number;
  child: ChildProcess | null;
  state: InstanceState;
  restarts: number;
  consecutiveCrashes: number;
  crashTimes: number[];
  readySince: number | null;
  restartTimer: NodeJS.Timeout | null;
  exited: Promise<void>;
  loopReported: boolean;
}

const key = (service: string, revision: string): string => `${service}\u0000${revision}`;

/**
 * Runs each revision as `replicas` child processes on free loopback ports, with their logs in the
 * state directory, supervised: crashes are detected and restarted with exponential backoff, and a
 * crash loop is reported. Every PID is recorded in the store before anything else happens, so a
 * restarted Augur can stop the processes of a run that died.
 */
export class ProcessRuntime implements Runtime {
  private readonly revisions = new Map<string, Instance[]>();
  private readonly clock: Clock;
  private readonly readyTimeoutMs: number;
  private readonly graceMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly stableAfterMs: number;
  private readonly crashLoopCrashes: number;
  private readonly crashLoopWindowMs: number;
  private closing = false;
  private readonly options: ProcessRuntimeOptions;
  private sharedEnv: Readonly<Record<string, string>>;

  constructor(options: ProcessRuntimeOptions) {
    this.options = options;
    this.sharedEnv = options.sharedEnv;
    this.clock = options.clock ?? systemClock;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
    this.graceMs = options.graceMs ?? 5_000;
    this.backoffInitialMs = options.backoffInitialMs ?? 250;
    this.backoffMaxMs = options.backoffMaxMs ?? 10_000;
    this.stableAfterMs = options.stableAfterMs ?? 10_000;
    this.crashLoopCrashes = options.crashLoopCrashes ?? 3;
    this.crashLoopWindowMs = options.crashLoopWindowMs ?? 60_000;
  }

  /** Environment added to processes started from now on (the routers' addresses, known once they listen). */
  setSharedEnv(env: Readonly<Record<string, string>>): void {
    this.sharedEnv = env;
  }

  async start(service: ServiceConfig, revision: string): Promise<void> {
    if (this.closing) throw new AugurError('RUNTIME_CLOSING', 'the runtime is shutting down');
    if (own(service.revisions, revision) === undefined) {
      throw new AugurError('UNKNOWN_REVISION', `service ${service.name} has no revision "${revision}"`);
    }
    if (this.revisions.has(key(service.name, revision))) return;
    const logDir = join(this.options.stateDir, 'logs', service.name);
    mkdirSync(logDir, { recursive: true });
    const instances: Instance[] = Array.from({ length: service.resources.replicas }, (_, replica) => ({
      service,
      revision,
      replica,
      logFile: join(logDir, `${revision}-${replica}.log`),
      port: 0,
      child: null,
      state: 'starting',
      restarts: 0,
      consecutiveCrashes: 0,
      crashTimes: [],
      readySince: null,
      restartTimer: null,
      exited: Promise.resolve(),
      loopReported: false,
    }));
    this.revisions.set(key(service.name, revision), instances);
    try {
      await Promise.all(instances.map((instance) => this.launch(instance, true)));
    } catch (error) {
      await this.stop(service.name, revision);
      throw error;
    }
  }

  async stop(service: string, revision: string): Promise<void> {
    const instances = this.revisions.get(key(service, revision));
    if (instances === undefined) return;
    this.revisions.delete(key(service, revision));
    await Promise.all(instances.map((instance) => this.terminate(instance)));
  }

  endpoints(service: string, revision: string): Endpoint[] {
    const instances = this.revisions.get(key(service, revision)) ?? [];
    return instances.filter((i) => i.state === 'ready').map((i) => ({ host: '127.0.0.1', port: i.port }));
  }

  isRunning(service: string, revision: string): boolean {
    return this.revisions.has(key(service, revision));
  }

  instances(): InstanceInfo[] {
    return [...this.revisions.values()].flat().map((i) => ({
      service: i.service.name,
      revision: i.revision,
      replica: i.replica,
      pid: i.child?.pid ?? null,
      port: i.port,
      state: i.state,
      restarts: i.restarts,
      logFile: i.logFile,
    }));
  }

  processes(): readonly { service: string; revision: string; pid: number }[] {
    const list: { service: string; revision: string; pid: number }[] = [];
    for (const instances of this.revisions.values()) {
      for (const i of instances) {
        const pid = i.child?.pid;
        if (pid !== undefined && i.child?.exitCode === null)
          list.push({ service: i.service.name, revision: i.revision, pid });
      }
    }
    return list;
  }

  crashLooping(service: string, revision: string): boolean {
    const now = this.clock.now();
    const instances = this.revisions.get(key(service, revision)) ?? [];
    return instances.some(
      (i) => i.crashTimes.filter((t) => now - t < this.crashLoopWindowMs).length >= this.crashLoopCrashes,
    );
  }

  async stopAll(): Promise<void> {
    this.closing = true;
    const all = [...this.revisions.keys()];
    await Promise.all(
      all.map((k) => {
        const [service, revision] = k.split('\u0000') as [string, string];
        return this.stop(service, revision);
      }),
    );
  }

  private emit(event: RuntimeEvent): void {
    this.options.observer?.onRuntimeEvent(event);
  }

  /** Spawns one instance and waits for it to be ready. On first start a failure rejects. */
  private async launch(instance: Instance, firstStart: boolean): Promise<void> {
    const { service, revision, replica } = instance;
    const spec = own(service.revisions, revision);
    if (spec === undefined) throw new AugurError('UNKNOWN_REVISION', `no revision ${revision}`);
    const [executable, ...args] = spec.command;
    if (executable === undefined)
      throw new AugurError('EMPTY_COMMAND', `${service.name} ${revision} has no command`);
    instance.port = await freePort();
    instance.state = 'starting';
    instance.readySince = null;

    const log = openSync(instance.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(executable, args, {
        cwd: spec.cwd,
        env: {
          ...inheritedEnv(process.env),
          ...this.sharedEnv,
          ...service.data,
          ...spec.env,
          PORT: String(instance.port),
          AUGUR_SERVICE: service.name,
          AUGUR_REVISION: revision,
          AUGUR_REPLICA: String(replica),
          AUGUR_STATE_DIR: this.options.stateDir,
          AUGUR_OWNER: this.options.owner,
        },
        stdio: ['ignore', log, log],
        // Own process group: a terminal's Ctrl-C reaches Augur only, and Augur stops the whole group.
        detached: true,
      });
    } finally {
      closeSync(log);
    }
    const pid = child.pid;
    if (pid === undefined) {
      const failure = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new AugurError('SPAWN_FAILED', `cannot start ${service.name} ${revision}: ${failure.message}`);
    }
    instance.child = child;
    instance.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await this.options.store.recordProcess({
      pid,
      service: service.name,
      revision,
      replica,
      port: instance.port,
      startTicks: processStartTicks(pid) ?? 0,
      owner: this.options.owner,
      startedAt: this.clock.now(),
    });
    this.emit({ type: 'started', service: service.name, revision, replica, pid, port: instance.port });
    child.once('exit', (code, signal) => void this.onExit(instance, child, code, signal));

    const began = this.clock.now();
    const deadline = began + this.readyTimeoutMs;
    while (this.clock.now() < deadline) {
      if (instance.child !== child || child.exitCode !== null || child.signalCode !== null) break;
      if (await probe(instance.port, service.healthPath, 500)) {
        if (instance.child !== child || instance.state !== 'starting') return;
        instance.state = 'ready';
        instance.readySince = this.clock.now();
        this.emit({
          type: 'ready',
          service: service.name,
          revision,
          replica,
          pid,
          port: instance.port,
          afterMs: instance.readySince - began,
        });
        return;
      }
      await sleep(50);
    }
    if (!firstStart) {
      // A restart that never became ready: kill it; the exit handler schedules the next attempt.
      if (instance.child === child && child.exitCode === null) killGroup(pid, 'SIGKILL');
      return;
    }
    if (child.exitCode === null && child.signalCode === null) killGroup(pid, 'SIGKILL');
    throw new AugurError(
      'NOT_READY',
      `${service.name} ${revision} replica ${replica} was not ready within ${this.readyTimeoutMs} ms` +
        `${child.exitCode !== null ? ` (exited with code ${child.exitCode})` : ''}; last log lines:\n${tail(instance.logFile)}`,
    );
  }

  private async onExit(
    instance: Instance,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Promise<void> {
    const pid = child.pid ?? 0;
    await this.options.store.forgetProcess(pid).catch(() => undefined);
    if (instance.child !== child || instance.state === 'stopping') return;
    const { service, revision, replica } = instance;
    const now = this.clock.now();
    const wasStable = instance.readySince !== null && now - instance.readySince >= this.stableAfterMs;
    instance.consecutiveCrashes = wasStable ? 1 : instance.consecutiveCrashes + 1;
    instance.crashTimes = [...instance.crashTimes.filter((t) => now - t < this.crashLoopWindowMs), now];
    instance.state = 'restarting';
    instance.readySince = null;
    this.emit({ type: 'crashed', service: service.name, revision, replica, pid, code, signal });
    if (instance.crashTimes.length >= this.crashLoopCrashes) {
      if (!instance.loopReported) {
        instance.loopReported = true;
        this.emit({
          type: 'crash-loop',
          service: service.name,
          revision,
          replica,
          crashes: instance.crashTimes.length,
          windowMs: this.crashLoopWindowMs,
        });
      }
    } else {
      instance.loopReported = false;
    }
    if (this.closing) return;
    const delayMs = Math.min(
      this.backoffMaxMs,
      this.backoffInitialMs * 2 ** (instance.consecutiveCrashes - 1),
    );
    instance.restarts++;
    this.emit({
      type: 'restarting',
      service: service.name,
      revision,
      replica,
      attempt: instance.restarts,
      delayMs,
    });
    instance.restartTimer = setTimeout(() => {
      instance.restartTimer = null;
      if (instance.state !== 'restarting') return;
      this.launch(instance, false).catch(() => {
        // Could not even spawn: try again later, as after a crash.
        if (instance.state === 'restarting' || instance.state === 'starting') {
          instance.state = 'restarting';
          instance.restartTimer = setTimeout(
            () => void this.launch(instance, false).catch(() => undefined),
            this.backoffMaxMs,
          );
        }
      });
    }, delayMs);
  }

  private async terminate(instance: Instance): Promise<void> {
    instance.state = 'stopping';
    if (instance.restartTimer !== null) clearTimeout(instance.restartTimer);
    instance.restartTimer = null;
    const child = instance.child;
    const pid = child?.pid;
    if (child === null || pid === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(pid, 'SIGTERM');
      const graceful = await exitsWithin(instance.exited, this.graceMs);
      if (!graceful) {
        killGroup(pid, 'SIGKILL');
        await instance.exited;
      }
      this.emit({
        type: 'stopped',
        service: instance.service.name,
        revision: instance.revision,
        replica: instance.replica,
        pid,
        forced: !graceful,
      });
    }
    // The group may hold processes the service started itself; make sure none outlives it.
    killGroup(pid, 'SIGKILL');
    await this.options.store.forgetProcess(pid);
  }
}

/** Whether `exited` settles within `ms`; the timer is cleared so it never holds the process open. */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([exited.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function tail(file: string, lines = 10): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
