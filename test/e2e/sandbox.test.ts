/**
 * Sandbox profiling with real processes: the shop's cart v1 against v3 (three times the work per
 * request), and the guarantee that nothing the sandbox starts outlives it — after a normal run, an
 * abort, a crash of Augur, an unhandled SIGINT, or Augur killed outright (reaped by the next run).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../src/config/index.js';
import type { DeploymentConfiguration, ReleaseConfig } from '../../src/config/types.js';
import { isAlive } from '../../src/runtime/process/signals.js';
import { profileRelease, reapStaleSandboxes } from '../../src/sandbox/index.js';
import { processesOf } from '../../src/sandbox/cleanup.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { repoRoot } from './helpers.js';

const ORDERS_DB = resolve(repoRoot, 'examples/shop/data/orders.db');
const DATA_FILES = { payments: { ORDERS_DB: 'examples/shop/data/orders.db' } };
const tmp = mkdtempSync(join(tmpdir(), 'augur-sandbox-test-'));
let config: DeploymentConfiguration;
let release: ReleaseConfig;

function fingerprint(path: string): string {
  if (!existsSync(path)) return 'absent';
  const s = statSync(path);
  return `${s.size} ${s.mtimeMs} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

/** Alive and not a zombie (killed, waiting for its parent — init, for an orphan — to reap it). */
function running(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Nothing of the sandbox runs: every PID it reported is dead and no process names its directory. */
async function nothingRunning(stateDir: string, pids: readonly number[]): Promise<void> {
  expect(pids.length).toBeGreaterThan(0);
  // A process killed a moment ago may take a moment to go.
  for (let i = 0; i < 40 && (pids.some(running) || processesOf(stateDir).length > 0); i++) await sleep(50);
  expect(pids.filter(running)).toEqual([]);
  expect(processesOf(stateDir)).toEqual([]);
}

beforeAll(async () => {
  const loaded = await loadConfiguration(
    ['examples/shop/augur.yaml', 'examples/shop/releases/cart-v3.yaml'],
    { cwd: repoRoot },
  );
  if (!loaded.ok) throw new Error('cannot load the shop');
  config = loaded.value;
  release = loaded.value.releases[0] as ReleaseConfig;
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('profileRelease on the shop', () => {
  it('measures cart v3 at about three times v1, on a copy of the orders, leaving nothing running', async () => {
    const orders = fingerprint(ORDERS_DB);
    const progress: string[] = [];
    const result = await profileRelease(config, release, {
      tmpDir: tmp,
      dataFiles: DATA_FILES,
      stepMs: 3_000,
      onProgress: (m) => progress.push(m),
    });
    const [v1, v3] = result.profiles;
    expect(result.profiles.map((p) => `${p.service} ${p.revision} ${p.source}`)).toEqual([
      'cart v1 sandbox',
      'cart v3 sandbox',
    ]);
    if (v1 === undefined || v3 === undefined) throw new Error('no profiles');
    // The knob: v3 burns SERVICE_TIME_MULTIPLIER 3 × WORK_MS 2 = 6 ms per checkout, v1 2 ms. Each
    // checkout also costs cart a fixed c ≈ 1–2 ms (HTTP and JSON, the call to payments), more when
    // other work on the two shared cores delays its wake-ups, so the whole ratio is
    // (6 + c) / (2 + c): 2.0–2.6 on a quiet machine (v1 3.8 ms, v3 7.9 ms seen), down to 1.5–1.6
    // on a busy one (1.62 in a full test run; 1.47 — v1 5.9 ms, v3 8.7 ms — beside another test
    // run). Stated tolerance: ratio 1.4–3.8, and the knob itself — the difference, from which c
    // mostly cancels — 4 ms ± 2 (3.9–4.1 seen quiet, 2.8 beside another test run).
    const serviceTime = v3.serviceTimeMs.mean / v1.serviceTimeMs.mean;
    console.log(
      `cart v1 ${v1.serviceTimeMs.mean.toFixed(2)} ms, v3 ${v3.serviceTimeMs.mean.toFixed(2)} ms; ` +
        `CPU ${v1.cpuMsPerRequest.toFixed(2)} and ${v3.cpuMsPerRequest.toFixed(2)} ms per request`,
    );
    expect(serviceTime).toBeGreaterThan(1.4);
    expect(serviceTime).toBeLessThan(3.8);
    const knob = v3.serviceTimeMs.mean - v1.serviceTimeMs.mean;
    expect(knob).toBeGreaterThan(2);
    expect(knob).toBeLessThan(6);
    expect(v1.serviceTimeMs.mean).toBeGreaterThan(1.5);
    // CPU: ≈ (6 + 0.9) / (2 + 0.9) ≈ 2.4 on a quiet machine (1.9–2.0 seen); less under contention
    // (1.8 beside another test run), because the shop's busy loop runs for wall time, not CPU
    // time. Tolerance 1.5–3.8.
    const cpu = v3.cpuMsPerRequest / v1.cpuMsPerRequest;
    expect(cpu).toBeGreaterThan(1.5);
    expect(cpu).toBeLessThan(3.8);
    expect(v1.cpuMsPerRequest).toBeGreaterThan(1.5);
    for (const p of result.profiles) {
      expect(p.errorProbability).toBe(0);
      expect(p.memoryGrowthMbPer1k).toBeLessThan(10);
      expect(p.requests).toBeGreaterThan(100);
      expect(p.serviceTime.kind).toBe('lognormal');
      expect(p.serviceTimeMs.p95).toBeGreaterThanOrEqual(p.serviceTimeMs.p50);
    }
    // No sample in any store: the requests that reach cart were recorded through frontend.
    expect(result.notes.join('\n')).toMatch(/cart: replayed \d+ requests recorded through the entrypoint/);
    // Copied when it exists; on a fresh checkout (no demo run yet) a fresh file in the sandbox.
    expect(result.notes.join('\n')).toMatch(
      /orders\.db \(given in dataFiles\) (copied to|does not exist; fresh file at) .* for payments ORDERS_DB/,
    );
    expect(progress.some((m) => m.startsWith('cart at 80 req/s per revision'))).toBe(true);
    // The production orders were never written.
    expect(fingerprint(ORDERS_DB)).toBe(orders);
    await nothingRunning(result.stateDir, result.pids);
    expect(existsSync(result.stateDir)).toBe(false);
  });

  it('replays the requests recorded in the store, bodies included', async () => {
    const store = new SqliteStore(join(tmp, 'production.db'));
    const body = new TextEncoder().encode(
      JSON.stringify({ items: [{ sku: 'a', priceCents: 250, quantity: 2 }] }),
    );
    await store.saveRequestSamples('cart', [
      {
        method: 'POST',
        path: '/cart/checkout',
        headers: { 'content-type': 'application/json' },
        body,
        recordedAt: 1,
      },
      { method: 'GET', path: '/cart/checkout', headers: {}, body: null, recordedAt: 2 },
    ]);
    try {
      const result = await profileRelease(config, release, {
        tmpDir: tmp,
        store,
        dataFiles: DATA_FILES,
        rates: [30],
        stepMs: 1_000,
        warmupMs: 200,
        idleMs: 200,
      });
      expect(result.notes).toContain(
        'cart: replayed 2 recorded production requests; rates 30 req/s, 1000 ms each',
      );
      expect(result.profiles).toHaveLength(2);
      for (const p of result.profiles) expect(p.errorProbability).toBe(0);
      await nothingRunning(result.stateDir, result.pids);
    } finally {
      await store.close();
    }
  });

  it('refuses, before any request, when a process holds production data no copy covers', async () => {
    // payments writes examples/shop/data/orders.db by default, a path no variable names once the
    // application's `data` declaration is taken away: the sandbox cannot give it a copy, sees the
    // file open for writing, and stops. The guard cannot undo what a process writes as it starts,
    // so the file is first made as any run of the shop leaves it (WAL, the orders table) and
    // closed cleanly, which also folds in a write-ahead log an earlier run left behind: payments
    // then opens it without writing, and "unchanged" stays checkable.
    mkdirSync(dirname(ORDERS_DB), { recursive: true });
    const db = new Database(ORDERS_DB);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS orders (
      id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL UNIQUE, user_key TEXT,
      amount_cents INTEGER NOT NULL, version TEXT NOT NULL, created_at INTEGER NOT NULL,
      checksum TEXT NOT NULL)`);
    db.close();
    const orders = fingerprint(ORDERS_DB);
    const payments = config.application.services['payments'];
    if (payments === undefined) throw new Error('no payments');
    const undeclared: DeploymentConfiguration = {
      ...config,
      application: {
        ...config.application,
        services: { ...config.application.services, payments: { ...payments, data: {} } },
      },
    };
    const result = await profileRelease(undeclared, release, {
      tmpDir: tmp,
      paths: { cart: '/cart/checkout' },
    });
    expect(result.profiles).toEqual([]);
    expect(result.steps).toEqual([]);
    expect(result.refused).toMatch(
      /payments v1 \(pid \d+\) holds .*examples\/shop\/data\/orders\.db open for writing/,
    );
    expect(result.notes).toContain(result.refused);
    expect(fingerprint(ORDERS_DB)).toBe(orders);
    await nothingRunning(result.stateDir, result.pids);
  });

  it('stops everything promptly when aborted mid-run', async () => {
    const controller = new AbortController();
    let info: { stateDir: string; pids: readonly number[] } | null = null;
    const began = Date.now();
    const run = profileRelease(config, release, {
      tmpDir: tmp,
      dataFiles: DATA_FILES,
      paths: { cart: '/cart/checkout' },
      stepMs: 10_000,
      signal: controller.signal,
      onStarted: (started) => (info = started),
      onProgress: (m) => {
        if (m.includes('measuring idle CPU')) setTimeout(() => controller.abort(), 1_500);
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'SANDBOX_ABORTED' });
    // Well before the first 10-s step could have ended.
    expect(Date.now() - began).toBeLessThan(15_000);
    const started = info as { stateDir: string; pids: readonly number[] } | null;
    if (started === null) throw new Error('the sandbox never started');
    await nothingRunning(started.stateDir, started.pids);
    expect(existsSync(started.stateDir)).toBe(false);
  });
});

describe('nothing survives Augur', () => {
  const child = resolve(import.meta.dirname, 'sandbox-child.ts');

  /** Starts the child; resolves with what it printed once its sandbox runs. */
  function startChild(mode: string): Promise<{
    pids: number[];
    stateDir: string;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    kill: (signal: NodeJS.Signals) => void;
  }> {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, mode], {
      cwd: repoRoot,
      env: { ...process.env, SANDBOX_TMP: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      proc.on('exit', (code, signal) => done({ code, signal })),
    );
    let output = '';
    proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
    return new Promise((done, fail) => {
      proc.stdout.on('data', (c: Buffer) => {
        output += c.toString();
        const line = output.split('\n').find((l) => l.startsWith('{'));
        if (line === undefined) return;
        const info = JSON.parse(line) as { pids: number[]; stateDir: string };
        done({ ...info, exited, kill: (signal) => proc.kill(signal) });
      });
      void exited.then(() => fail(new Error(`the child exited before its sandbox ran:\n${output}`)));
    });
  }

  it('kills the sandbox processes when Augur crashes', async () => {
    const run = await startChild('crash');
    const exit = await run.exited;
    expect(exit.code).toBe(1);
    await nothingRunning(run.stateDir, run.pids);
  });

  it('stops everything on a SIGINT nobody else handles, then dies of it', async () => {
    const run = await startChild('sigint');
    run.kill('SIGINT');
    const exit = await run.exited;
    expect(exit.signal).toBe('SIGINT');
    await nothingRunning(run.stateDir, run.pids);
    expect(existsSync(run.stateDir)).toBe(false);
  });

  it('reaps the processes of a sandbox whose Augur was killed outright', async () => {
    const run = await startChild('hang');
    run.kill('SIGKILL');
    await run.exited;
    // Killed outright, Augur could not stop them: they are orphans until the next sandbox looks.
    expect(run.pids.some(running)).toBe(true);
    const reaped = reapStaleSandboxes(tmp);
    expect(reaped.dirs).toEqual([run.stateDir]);
    await nothingRunning(run.stateDir, run.pids);
    expect(existsSync(run.stateDir)).toBe(false);
  });
});
