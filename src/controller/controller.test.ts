import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplicationConfig, ReleaseConfig } from '../config/types.js';
import { systemClock } from '../core/clock.js';
import type { MetricsProvider, WindowAggregate } from '../metrics/provider.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { sequentialAnalysis } from './analysis/sequential.js';
import type { ControlledPlane } from './controller.js';
import { RolloutController } from './controller.js';
import type { ReleaseEvent } from './core/events.js';
import type { PredictionSource } from './predicted/source.js';
import type { Mitigator } from './mitigator.js';
import { MitigationRunner } from '../mitigation/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'augur-controller-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const app = {
  name: 'shop',
  services: {
    cart: {
      name: 'cart',
      stable: 'v1',
      revisions: { v1: {}, v2: {} },
      resources: { replicas: 1, concurrency: 4, cpu: 0.5 },
      limits: { errorRate: 0.05 },
    },
  },
} as unknown as ApplicationConfig;

const release: ReleaseConfig = {
  name: 'r',
  application: 'shop',
  changes: [{ service: 'cart', revision: 'v2' }],
  tiers: [10, 50, 100],
  bake: { minDurationMs: 0, minRequests: 0 },
  monitoring: { intervalMs: 30, warningIntervalMs: 10 },
  risk: { low: 0.1, high: 0.5 },
  alpha: 0.01,
  mitigations: [],
  source: 'r.yaml',
};

const healthy = (requests: number): WindowAggregate => ({
  service: 'cart',
  revision: 'v2',
  from: 0,
  to: 0,
  requests,
  errors: 0,
  timeouts: 0,
  resets: 0,
  errorRate: 0,
  latency: { p50: 1, p95: 2, p99: 3, mean: 1, max: 4 },
  inflightMax: 1,
  cpuCores: 0.01,
  rssBytes: 1e6,
  windows: 1,
});

function provider(mode: { down: boolean }): MetricsProvider {
  const fail = (): never => {
    throw new Error('metrics backend unreachable');
  };
  return {
    aggregate: (q) =>
      mode.down
        ? Promise.reject(new Error('metrics backend unreachable'))
        : Promise.resolve({ ...healthy(500), ...q }),
    quantile: () => Promise.resolve(fail()),
    exceedances: () => Promise.resolve({ total: 500, above: 0 }),
    series: () => Promise.resolve([]),
    revisions: () => Promise.resolve([]),
  };
}

class FakePlane implements ControlledPlane {
  readonly application = app;
  readonly provider: MetricsProvider;
  weights: number[] = [];
  failuresLeft = 0;
  promoted = false;
  constructor(p: MetricsProvider) {
    this.provider = p;
  }
  setTraffic(_s: string, _r: string, weight: number): Promise<unknown> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new Error('router unreachable'));
    }
    this.weights.push(weight);
    return Promise.resolve();
  }
  promote(): Promise<void> {
    this.promoted = true;
    return Promise.resolve();
  }
  stopRevision(): Promise<boolean> {
    return Promise.resolve(true);
  }
  stableOf(): string {
    return 'v1';
  }
  crashLooping(): boolean {
    return false;
  }
}

const noPrediction: PredictionSource = { predict: () => Promise.resolve(null) };

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

function controller(
  plane: FakePlane,
  store: SqliteStore,
  events: ReleaseEvent[],
  outage: 'hold' | 'rollback' = 'hold',
  mitigations?: Mitigator,
) {
  return new RolloutController({
    ...(mitigations === undefined ? {} : { mitigations }),
    store,
    plane,
    analysis: (r) => sequentialAnalysis(app, r),
    prediction: noPrediction,
    clock: systemClock,
    onEvent: (e) => events.push(e),
    retry: { initialMs: 10, maxMs: 40 },
    settings: { resumeAfterMs: 100, outageAfterMs: 300, outageAction: outage, stopCanaryAfterMs: 0 },
  });
}

describe('rollout controller (fake data plane)', () => {
  it('never promotes during a metrics outage, and rolls back after it when configured', async () => {
    const store = new SqliteStore(join(dir, 'outage.db'));
    const mode = { down: true };
    const plane = new FakePlane(provider(mode));
    const events: ReleaseEvent[] = [];
    const c = controller(plane, store, events, 'rollback');
    await c.submit(release);
    await until(() => c.state('r')?.tracks[0]?.phase === 'rolled-back');
    expect(plane.weights).toEqual([1000, 0]);
    expect(events.some((e) => e.signal === 'HOLD' && /metrics backend unreachable/.test(e.message))).toBe(
      true,
    );
    expect(events.some((e) => e.type === 'tier-started' && e.data.share === 50)).toBe(false);
    await c.close();
    await store.close();
  }, 20_000);

  it('holds through an outage with the hold action, then continues when metrics return', async () => {
    const store = new SqliteStore(join(dir, 'hold.db'));
    const mode = { down: true };
    const plane = new FakePlane(provider(mode));
    const events: ReleaseEvent[] = [];
    const c = controller(plane, store, events, 'hold');
    await c.submit(release);
    await sleep(1_200);
    expect(plane.weights).toEqual([1000]);
    expect(events.some((e) => e.type === 'outage' && e.signal === 'HOLD')).toBe(true);
    mode.down = false;
    expect(await c.wait('r')).toBe('promoted');
    expect(plane.promoted).toBe(true);
    await c.close();
    await store.close();
  }, 30_000);

  it('retries a failing router with backoff and reports a rollback only once it is applied', async () => {
    const store = new SqliteStore(join(dir, 'router.db'));
    const plane = new FakePlane(provider({ down: false }));
    const events: ReleaseEvent[] = [];
    const c = controller(plane, store, events);
    await c.submit({ ...release, bake: { minDurationMs: 60_000, minRequests: 0 } });
    await until(() => plane.weights.length === 1);
    plane.failuresLeft = 3;
    await c.command('r', { type: 'rollback' }, 'test');
    expect(c.state('r')?.tracks[0]?.phase).toBe('rolling-back');
    await until(() => c.state('r')?.tracks[0]?.phase === 'rolled-back');
    const failures = events.filter((e) => e.type === 'router-failed');
    expect(failures.length).toBeGreaterThanOrEqual(3);
    const rolledBack = events.findIndex((e) => e.type === 'rolled-back');
    const applied = events.findIndex((e) => e.type === 'weight-applied' && e.data.weight === 0);
    expect(applied).toBeGreaterThan(-1);
    expect(rolledBack).toBeGreaterThan(applied);
    // Every event was stored, in order, before observers saw it.
    const stored = await store.releaseEvents('r');
    expect(stored.map((e) => e.sequence)).toEqual(stored.map((_, i) => i));
    await c.close();
    await store.close();
  }, 20_000);

  it('backs up before the first tier, and after a rollback checks, restores and verifies the data — also across a restart', async () => {
    const root = mkdtempSync(join(dir, 'mitigation-'));
    const data = join(root, 'orders.db');
    const repo = join(import.meta.dirname, '..', '..');
    const orders = (await import(join(repo, 'examples/shop/lib/orders.js'))) as {
      openOrders: (p: string) => {
        prepare: (sql: string) => { run: (...a: unknown[]) => void };
        close: () => void;
      };
      checksum: (o: object) => string;
    };
    const db = orders.openOrders(data);
    const insert = db.prepare(
      'INSERT INTO orders (order_id, user_key, amount_cents, version, created_at, checksum) VALUES (?, ?, ?, ?, ?, ?)',
    );
    let next = 0;
    const write = (n: number, corrupt: boolean): void => {
      for (let i = 0; i < n; i++) {
        const o = { order_id: `o-${next++}`, user_key: 'u', amount_cents: 500, created_at: next };
        insert.run(
          o.order_id,
          o.user_key,
          corrupt ? 0 : o.amount_cents,
          'v',
          o.created_at,
          orders.checksum(o),
        );
      }
    };
    write(10, false);
    const mitigated: ReleaseConfig = {
      ...release,
      name: 'm',
      bake: { minDurationMs: 60_000, minRequests: 0 },
      mitigations: [
        {
          name: 'orders',
          backup: { sqlite: data },
          check: { command: [process.execPath, join(repo, 'examples/shop/check-orders.js'), data] },
          restore: 'auto',
        },
      ],
    };
    const runner = new MitigationRunner({ stateDir: join(root, 'state'), baseDir: root });
    // The first controller dies while the restore runs: its restore never finishes.
    const stuck: Mitigator = {
      backup: (...a) => runner.backup(...a),
      check: (m) => runner.check(m),
      restore: () => new Promise(() => undefined),
    };
    const store = new SqliteStore(join(root, 'augur.db'));
    const plane = new FakePlane(provider({ down: false }));
    const events: ReleaseEvent[] = [];
    const first = controller(plane, store, events, 'hold', stuck);
    const started = await first.submit(mitigated);
    expect(started.mitigation?.backups).toHaveLength(1);
    expect(events.find((e) => e.type === 'release-started')?.data).toMatchObject({
      backups: [{ name: 'orders' }],
    });
    // The canary corrupts orders; an operator rolls it back.
    write(4, true);
    await first.command('m', { type: 'rollback' }, 'test');
    await until(() => first.state('m')?.mitigation?.pending === 'restore');
    expect(
      events.some(
        (e) => e.type === 'mitigation' && /data check failed .*4 of 14 orders are corrupt/.test(e.message),
      ),
    ).toBe(true);
    expect(first.state('m')?.tracks[0]?.phase).toBe('rolled-back');
    await first.close();
    expect((await store.getRelease('m'))?.phase).toBe('running');
    // A new controller picks the release up and runs the restore again, then the check.
    const after: ReleaseEvent[] = [];
    const second = controller(plane, store, after, 'hold', runner);
    expect(await second.resume()).toEqual(['m']);
    expect(await second.wait('m')).toBe('rolled-back');
    expect(after.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/^data restored and verified \(orders: 10 orders verified/),
    );
    expect(second.state('m')?.mitigation).toMatchObject({ pending: null, status: 'restored' });
    await second.close();
    await store.close();
    db.close();
  }, 30_000);
});
