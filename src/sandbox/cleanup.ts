/**
 * Nothing the sandbox starts may outlive it. Three layers beyond the data plane's own stop:
 *
 * - `ProcessGuard`: while a sandbox runs, an `exit` handler SIGKILLs the process group of every
 *   process it started (checked against the recorded start time, so a reused PID is spared). It
 *   runs on `process.exit()` and on a crash by an uncaught exception.
 * - If nobody else handles SIGINT/SIGTERM, the guard does: it aborts the sandbox, which stops
 *   everything, and then the signal is raised again so that the process ends as it would have.
 * - `reapStaleSandboxes`: a sandbox whose Augur was killed outright (SIGKILL) leaves its lock file
 *   with a dead PID; the next sandbox kills that run's processes (found by the state directory in
 *   their environment) and removes its directory.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { listPids, processEnv, processStartTicks } from '../runtime/process/procfs.js';
import { isAlive, killGroup } from '../runtime/process/signals.js';

export const SANDBOX_PREFIX = 'augur-sandbox-';
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export class ProcessGuard {
  private readonly started = new Map<number, number | null>();
  private readonly abort: () => void;
  private signalled: NodeJS.Signals | null = null;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  private readonly onExit = (): void => {
    this.killAll();
  };

  /** @param abort stops the sandbox (called on a signal nobody else handles) */
  constructor(abort: () => void) {
    this.abort = abort;
  }

  install(): void {
    process.on('exit', this.onExit);
    for (const signal of SIGNALS) {
      if (process.listenerCount(signal) > 0) continue;
      const handler = (): void => {
        this.signalled ??= signal;
        this.abort();
      };
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  /** A process the sandbox started. */
  add(pid: number): void {
    this.started.set(pid, processStartTicks(pid));
  }

  get pids(): number[] {
    return [...this.started.keys()];
  }

  /** SIGKILLs whatever is still running of what the sandbox started. Synchronous. */
  killAll(): number {
    let killed = 0;
    for (const [pid, ticks] of this.started) {
      if (!isAlive(pid) || (ticks !== null && processStartTicks(pid) !== ticks)) continue;
      killGroup(pid, 'SIGKILL');
      killed++;
    }
    return killed;
  }

  /** Removes the handlers; re-raises a signal that stopped the sandbox, now that all is clean. */
  uninstall(): void {
    process.off('exit', this.onExit);
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
    const signal = this.signalled;
    this.signalled = null;
    if (signal !== null && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  }
}

/** Processes whose environment names `stateDir` as their state directory. */
export function processesOf(stateDir: string): number[] {
  return listPids().filter((pid) => pid !== process.pid && processEnv(pid, 'AUGUR_STATE_DIR') === stateDir);
}

/**
 * Stops the processes of sandboxes under `parent` whose Augur died, and removes their directories.
 * A sandbox still running (its lock's PID alive) and one that ended cleanly (no lock) are left alone.
 */
export function reapStaleSandboxes(parent: string): { processes: number; dirs: string[] } {
  let processes = 0;
  const dirs: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(parent).filter((name) => name.startsWith(SANDBOX_PREFIX));
  } catch {
    return { processes, dirs };
  }
  for (const name of entries) {
    const dir = join(parent, name);
    const lock = join(dir, 'augur.lock');
    if (!existsSync(lock)) continue;
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(lock, 'utf8').trim());
    } catch {
      continue;
    }
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) continue;
    for (const pid of processesOf(dir)) {
      killGroup(pid, 'SIGKILL');
      processes++;
    }
    rmSync(dir, { recursive: true, force: true });
    dirs.push(dir);
  }
  return { processes, dirs };
}
