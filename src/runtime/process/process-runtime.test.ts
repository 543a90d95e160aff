import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../config/types.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { RuntimeEvent } from '../runtime.js';
import { stopOrphans } from './orphans.js';
import { ProcessRuntime } from './process-runtime.js';
import { isAlive } from './signals.js';
import { StateLock } from './state-lock.js';

const script = resolve('test/fixtures/services/echo.js');
const root = mkdtempSync(join(tmpdir(), 'augur-runtime-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function service(env: Record<string, string> = {}, replicas = 2): ServiceConfig {
  return {
    name: 'echo',
    port: 0,
    stable: 'v1',
    revisions: { v1: { name: 'v1', command: [process.execPath, script], env, cwd: process.cwd() } },
    resources: { replicas, concurrency: 4, cpu: 0.5 },
    policies: { timeoutMs: 1000, retries: 0 },
    calls: [],
    limits: {},
    healthPath: '/',
  };
}

function get(port: number, path = '/'): Promise<string> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res(body));
    });
    req.on('error', rej);
    req.end();
  });
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(25);
  }
}

describe('process runtime (real processes)', () => {
  let dir: string;
  let store: SqliteStore;
  let events: RuntimeEvent[];
  let runtime: ProcessRuntime;
  const make = (
    owner: string,
    extra: Partial<ConstructorParameters<typeof ProcessRuntime>[0]> = {},
  ): ProcessRuntime =>
    new ProcessRuntime({
      stateDir: dir,
      store,
      owner,
      sharedEnv: { AUGUR_URL_ECHO: 'http://127.0.0.1:1' },
      observer: { onRuntimeEvent: (e) => events.push(e) },
      backoffInitialMs: 50,
      graceMs: 500,
      ...extra,
    });

  beforeEach(() => {
    dir = mkdtempSync(join(root, 'state-'));
    store = new SqliteStore(join(dir, 'augur.db'));
    events = [];
    runtime = make('run-1');
  });
  afterEach(async () => {
    await runtime.stopAll();
    await store.close();
  });

  it('starts replicas on their own ports, records PIDs, writes logs and stops them', async () => {
    await runtime.start(service(), 'v1');
    const endpoints = runtime.endpoints('echo', 'v1');
    expect(endpoints).toHaveLength(2);
    const answers = await Promise.all(endpoints.map((e) => get(e.port)));
    expect(answers.every((a) => a.startsWith('v1 '))).toBe(true);
    const pids = runtime.processes().map((p) => p.pid);
    expect((await store.listProcesses()).map((p) => p.pid).sort()).toEqual([...pids].sort());
    expect(readFileSync(join(dir, 'logs', 'echo', 'v1-0.log'), 'utf8')).toMatch(/listening on/);
    await runtime.stop('echo', 'v1');
    expect(pids.some(isAlive)).toBe(false);
    expect(await store.listProcesses()).toEqual([]);
    expect(events.filter((e) => e.type === 'stopped')).toHaveLength(2);
  });

  it('detects a crash and restarts the instance with a new process', async () => {
    await runtime.start(service({}, 1), 'v1');
    const [before] = runtime.processes();
    const port = runtime.endpoints('echo', 'v1')[0]?.port ?? 0;
    await get(port, '/crash');
    await until(() => events.some((e) => e.type === 'crashed'));
    await until(() => runtime.endpoints('echo', 'v1').length === 1);
    const [after] = runtime.processes();
    expect(after?.pid).not.toBe(before?.pid);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['crashed', 'restarting', 'ready']));
    const crashed = events.find((e) => e.type === 'crashed');
    expect(crashed).toMatchObject({ code: 3 });
    expect((await store.listProcesses()).map((p) => p.pid)).toEqual([after?.pid]);
  });

  it('reports a crash loop', async () => {
    await runtime.start(service({ CRASH_AFTER_MS: '150' }, 1), 'v1');
    await until(() => events.some((e) => e.type === 'crash-loop'), 15_000);
    const loop = events.find((e) => e.type === 'crash-loop');
    expect(loop).toMatchObject({ service: 'echo', revision: 'v1', crashes: 3 });
    const delays = events.flatMap((e) => (e.type === 'restarting' ? [e.delayMs] : []));
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
  });

  it('kills a process that ignores SIGTERM after the grace period', async () => {
    await runtime.start(service({ IGNORE_TERM: '1' }, 1), 'v1');
    const [p] = runtime.processes();
    await runtime.stop('echo', 'v1');
    expect(isAlive(p?.pid ?? 0)).toBe(false);
    expect(events.find((e) => e.type === 'stopped')).toMatchObject({ forced: true });
  });

  it('rejects a revision that never becomes ready and leaves no process behind', async () => {
    const broken = service({}, 1);
    const failing: ServiceConfig = {
      ...broken,
      revisions: {
        v1: { name: 'v1', command: [process.execPath, '-e', 'process.exit(7)'], env: {}, cwd: process.cwd() },
      },
    };
    await expect(runtime.start(failing, 'v1')).rejects.toThrow(/not ready.*code 7/s);
    expect(runtime.processes()).toEqual([]);
    expect(runtime.isRunning('echo', 'v1')).toBe(false);
  });

  it('stops the orphans of a run that died, found by the store and by /proc', async () => {
    await runtime.start(service(), 'v1');
    const pids = runtime.processes().map((p) => p.pid);
    // One record is lost, as if the previous run died between spawning and recording.
    await store.forgetProcess(pids[0] ?? 0);
    const next = make('run-2');
    const stopped = await stopOrphans(store, dir, 'run-2', { onRuntimeEvent: (e) => events.push(e) });
    expect(stopped).toBe(2);
    expect(pids.some(isAlive)).toBe(false);
    expect(await store.listProcesses()).toEqual([]);
    await next.stopAll();
  });

  it('never hands the CLI’s server and token to the processes it starts', async () => {
    const saved = { token: process.env['AUGUR_TOKEN'], server: process.env['AUGUR_SERVER'] };
    process.env['AUGUR_TOKEN'] = 'augur_operator-secret';
    process.env['AUGUR_SERVER'] = 'http://127.0.0.1:7070';
    try {
      await runtime.start(service({ OWN: 'kept' }, 1), 'v1');
    } finally {
      for (const [name, value] of [
        ['AUGUR_TOKEN', saved.token],
        ['AUGUR_SERVER', saved.server],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const [p] = runtime.processes();
    const names = readFileSync(`/proc/${p?.pid ?? 0}/environ`, 'utf8')
      .split('\0')
      .map((entry) => entry.slice(0, entry.indexOf('=')));
    expect(names).toEqual(expect.arrayContaining(['PATH', 'OWN', 'AUGUR_SERVICE', 'AUGUR_URL_ECHO']));
    expect(names).not.toContain('AUGUR_TOKEN');
    expect(names).not.toContain('AUGUR_SERVER');
  });

  it('knows no revision named like an inherited member of every object', async () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      await expect(runtime.start(service(), name)).rejects.toMatchObject({ code: 'UNKNOWN_REVISION' });
    }
    expect(runtime.processes()).toEqual([]);
  });

  it('allows one Augur per state directory', () => {
    const lock = new StateLock(dir);
    lock.acquire();
    expect(() => new StateLock(dir).acquire()).not.toThrow(); // same PID re-entering is allowed
    lock.release();
    expect(existsSync(join(dir, 'augur.lock'))).toBe(false);
  });
});
