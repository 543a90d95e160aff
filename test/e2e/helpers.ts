import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach } from 'vitest';
import { freePort } from '../../src/runtime/process/ports.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
const bin = resolve(repoRoot, 'bin', 'augur.js');

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `augur ARGS…` to completion (bounded in time). */
export function augur(
  args: readonly string[],
  timeoutMs = 60_000,
  env: Readonly<Record<string, string>> = {},
): Promise<Finished> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`augur ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** A long-running `augur` (e.g. `up`) with its output collected as it comes. */
export class Background {
  readonly child: ChildProcess;
  /** stdout and stderr as they interleaved. */
  output = '';
  /** stdout alone. */
  stdout = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], env: Readonly<Record<string, string>> = {}) {
    this.child = spawn(process.execPath, [bin, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.child.stdout?.on('data', (c: Buffer) => {
      this.output += c.toString();
      this.stdout += c.toString();
    });
    this.child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`augur exited before ${String(pattern)}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)}:\n${this.output}`);
      await sleep(50);
    }
  }
}

export { freePort };

/** PIDs of the processes whose environment names this state directory: what Augur started. */
export function processesOf(stateDir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (env.includes(`AUGUR_STATE_DIR=${stateDir}`)) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/**
 * Per-test clean-up for tests that run `augur` in the background, each trial in a fresh directory
 * with its state in `DIR/state`: after each test the background runs are killed; at the end,
 * whatever Augur started there is killed and the directories removed.
 */
export function backgroundRuns(prefix: string): {
  fresh: () => string;
  track: (run: Background) => Background;
} {
  const dirs: string[] = [];
  const live: Background[] = [];
  afterEach(async () => {
    for (const b of live.splice(0)) if (b.child.exitCode === null) b.child.kill('SIGKILL');
    await sleep(50);
  });
  afterAll(() => {
    for (const d of dirs) {
      for (const pid of processesOf(join(d, 'state'))) process.kill(-pid, 'SIGKILL');
      rmSync(d, { recursive: true, force: true });
    }
  });
  return {
    fresh: () => {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    track: (run) => {
      live.push(run);
      return run;
    },
  };
}

/** Sends one GET per key, `concurrency` at a time; returns the status counts. */
export async function hit(
  port: number,
  keys: readonly string[],
  concurrency = 16,
): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      const status = await new Promise<number>((done) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/', agent, headers: { 'x-augur-key': key } },
          (res) => {
            res.resume();
            res.on('end', () => done(res.statusCode ?? 0));
          },
        );
        req.on('error', () => done(0));
        req.end();
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return statuses;
}

/** The shop application on free ports with its state in `stateDir`: fast knobs for tests. */
export async function shopApplication(stateDir: string): Promise<string> {
  const [frontend, catalog, cart, payments] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const revision = (file: string, version: string, extra = ''): string =>
    `        ${version}: { command: [node, examples/shop/${file}.js], env: { VERSION: ${version}, WORK_MS: '0'${extra} } }`;
  const orders = `, ORDERS_DB: '${stateDir}/orders.db'`;
  return `apiVersion: augur/v1alpha1
kind: Application
metadata: { name: shop }
spec:
  entrypoint: frontend
  stateDir: ${stateDir}
  store: { url: "sqlite:${stateDir}/augur.db" }
  services:
    frontend:
      port: ${frontend}
      stable: v1
      revisions:
${revision('frontend', 'v1')}
      resources: { replicas: 2 }
      calls:
        - { service: catalog, perRequest: 2, mode: parallel }
        - { service: cart, perRequest: 1 }
    catalog:
      port: ${catalog}
      stable: v1
      revisions:
${revision('catalog', 'v1')}
    cart:
      port: ${cart}
      stable: v1
      revisions:
${revision('cart', 'v1')}
${revision('cart', 'v2')}
      calls:
        - { service: payments, perRequest: 1 }
    payments:
      port: ${payments}
      stable: v1
      revisions:
${revision('payments', 'v1', orders)}
`;
}

/** Keeps a bounded stream of requests going to the service until stopped (or 60 s pass). */
export function traffic(port: number): { stop: () => Promise<void> } {
  let running = true;
  const done = (async () => {
    const deadline = Date.now() + 60_000;
    let i = 0;
    while (running && Date.now() < deadline) {
      await hit(
        port,
        Array.from({ length: 20 }, () => `user-${i++ % 500}`),
        4,
      );
      await sleep(10);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}
