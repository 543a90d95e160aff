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
import { shopOrders } from '../testing/shop-orders.js';

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

function provider(mode: { down: boolean; canary?: Partial<WindowAggregate> }): MetricsProvider {
  const fail = (): never => {
    throw new Error('metrics backend unreachable');
  };
  return {
    aggregate: (q) =>
      mode.down
        ? Promise.reject(new Error('metrics backend unreachable'))
        : Promise.resolve({ ...healthy(500), ...q, ...(q.revision === 'v2' ? mode.canary : {}) }),
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
  /** The router takes the weight but never answers (the controller dies before it would). */
  hangs = false;
  /** How long the router takes to answer each call, by its number; null: at once. */
  latency: (call: number) => number | null = () => null;
  private calls = 0;
  stopped = 0;
  constructor(p: MetricsProvider) {
    this.provider = p;
  }
  setTraffic(_s: string, _r: string, weight: number): Promise<unknown> {
    if (this.hangs) {
      this.weights.push(weight);
      return new Promise(() => undefined);
    }
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      return Promise.reject(new Error('router unreachable'));
    }
    this.weights.push(weight);
    const ms = this.latency(++this.calls);
    return ms === null ? Promise.resolve() : sleep(ms);
  }
  promote(): Promise<void> {
    this.promoted = true;
    return Promise.resolve();
  }
  stopRevision(): Promise<boolean> {
    this.stopped++;
    return Promise.resolve(true);
  }
  /** The stable revision serving now (an earlier release may have promoted another). */
  stable = 'v1';
  stableOf(): string {
    return this.stable;
  }
  crashLooping(): boolean {
    return false;
  }
}

const noPrediction: PredictionSource = { predict: () => Promise.resolve(null) };

/** A store that can be made to refuse every write, as a full disk would. */
class FailingStore extends SqliteStore {
  full = false;
  override saveRelease(...args: Parameters<SqliteStore['saveRelease']>): Promise<void> {
    return this.full
      ? Promise.reject(new Error('SQLITE_FULL: database or disk is full'))
      : super.saveRelease(...args);
  }
}

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
  stopCanaryAfterMs = 0,
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
    settings: { resumeAfterMs: 100, outageAfterMs: 300, outageAction: outage, stopCanaryAfterMs },
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

  it('records the stable revision serving now, and refuses a release that would do nothing or fight another', async () => {
    const store = new SqliteStore(join(dir, 'live-stable.db'));
    const plane = new FakePlane(provider({ down: true }));
    plane.stable = 'v3';
    const c = controller(plane, store, []);
    const state = await c.submit(release);
    expect(state.tracks[0]).toMatchObject({ service: 'cart', stable: 'v3', canary: 'v2' });
    // A second release of the same service while the first rolls out: both would set its canary.
    await expect(c.submit({ ...release, name: 'r2' })).rejects.toMatchObject({
      code: 'SERVICE_BUSY',
      message: expect.stringMatching(/cannot change cart: release r is rolling out v2/) as unknown,
    });
    await expect(
      c.submit({ ...release, name: 'r3', changes: [{ service: 'cart', revision: 'v3' }] }),
    ).rejects.toMatchObject({ code: 'ALREADY_STABLE' });
    expect(await store.getRelease('r2')).toBeNull();
    expect(await store.getRelease('r3')).toBeNull();
    expect(plane.weights).toEqual([1000]);
    await c.command('r', { type: 'abort' }, 'test');
    await until(() => c.state('r')?.tracks[0]?.phase === 'rolled-back');
    // Once the first has ended, the service is free again.
    await c.submit({ ...release, name: 'r4' });
    await c.close();
    await store.close();
  }, 20_000);

  it('keeps a split set by hand and a release from overwriting each other', async () => {
    const store = new SqliteStore(join(dir, 'by-hand.db'));
    const plane = new FakePlane(provider({ down: true }));
    const c = controller(plane, store, []);
    // While a hand-set split is applied (its processes starting), a release of the service waits its turn.
    const [applied, submitted] = await Promise.allSettled([
      c.setByHand('cart', 'v2', async () => {
        await sleep(100);
        return 'applied';
      }),
      sleep(10).then(() => c.submit(release)),
    ]);
    expect(applied).toEqual({ status: 'fulfilled', value: 'applied' });
    expect(submitted).toMatchObject({
      status: 'rejected',
      reason: {
        code: 'SERVICE_BUSY',
        message: expect.stringMatching(/being set by hand \(to v2\)/) as unknown,
      },
    });
    expect(await store.getRelease('r')).toBeNull();
    // Once applied, the release may start; then the split is its own.
    await c.submit(release);
    let touched = false;
    await expect(
      c.setByHand('cart', 'v3', () => {
        touched = true;
        return Promise.resolve();
      }),
    ).rejects.toMatchObject({ code: 'SERVICE_BUSY' });
    expect(touched).toBe(false);
    await c.close();
    await store.close();
  }, 20_000);

  it('forgets a release whose first record the store refused: its service is not left busy', async () => {
    const store = new FailingStore(join(dir, 'first-commit.db'));
    const plane = new FakePlane(provider({ down: true }));
    const c = controller(plane, store, []);
    store.full = true;
    await expect(c.submit(release)).rejects.toThrow(/SQLITE_FULL/);
    expect(c.changing('cart')).toBeNull();
    expect(c.state('r')).toBeNull();
    store.full = false;
    expect((await c.submit(release)).release).toBe('r');
    await c.close();
    await store.close();
  }, 20_000);

  it('refuses a second release of a service while the first is still taking its backups', async () => {
    const store = new SqliteStore(join(dir, 'starting.db'));
    const plane = new FakePlane(provider({ down: true }));
    const slowBackups: Mitigator = {
      backup: async () => {
        await sleep(200);
        return [];
      },
      check: () => Promise.resolve([]),
      restore: () => Promise.resolve([]),
    };
    const c = controller(plane, store, [], 'hold', slowBackups);
    const withBackup = (name: string): ReleaseConfig => ({
      ...release,
      name,
      mitigations: [
        { name: 'db', backup: { sqlite: 'x.db' } } as unknown as ReleaseConfig['mitigations'][number],
      ],
    });
    const [first, second] = await Promise.allSettled([
      c.submit(withBackup('a1')),
      c.submit(withBackup('a2')),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'SERVICE_BUSY' } });
    expect(await store.getRelease('a2')).toBeNull();
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

  it("completes a rollback asked for before the router confirmed the first tier's weight", async () => {
    const store = new SqliteStore(join(dir, 'early-rollback.db'));
    const plane = new FakePlane(provider({ down: false }));
    plane.failuresLeft = 1_000;
    const events: ReleaseEvent[] = [];
    const c = controller(plane, store, events);
    await c.submit({ ...release, bake: { minDurationMs: 60_000, minRequests: 0 } });
    await until(() => events.some((e) => e.type === 'router-failed'));
    await c.command('r', { type: 'rollback' }, 'test');
    // Weight 0 is what was last confirmed, but the first tier's request may still land: 0 is sent.
    plane.failuresLeft = 0;
    expect(await c.wait('r')).toBe('rolled-back');
    expect(plane.weights).toEqual([0]);
    expect((await store.getRelease('r'))?.phase).toBe('rolled-back');
    await c.close();
    await store.close();
  }, 20_000);

  it('after a restart, sends weight 0 again for a track that was rolling back', async () => {
    const path = join(dir, 'restart-rollback.db');
    const first = new SqliteStore(path);
    // The router takes the first tier's weight, and the controller dies before it answers.
    const dying = new FakePlane(provider({ down: false }));
    dying.hangs = true;
    const c1 = controller(dying, first, []);
    await c1.submit({ ...release, bake: { minDurationMs: 60_000, minRequests: 0 } });
    await c1.command('r', { type: 'abort' }, 'test');
    expect(dying.weights).toEqual([1000]);
    await c1.close();
    // The data plane restored 10% for v2; the new controller must take it back.
    const store = new SqliteStore(path);
    const plane = new FakePlane(provider({ down: false }));
    const c2 = controller(plane, store, []);
    expect(await c2.resume()).toEqual(['r']);
    expect(await c2.wait('r')).toBe('aborted');
    expect(plane.weights).toEqual([0]);
    await c2.close();
    await store.close();
    await first.close();
  }, 20_000);

  it("backs off on a timer while the store cannot take the router's confirmation", async () => {
    const store = new FailingStore(join(dir, 'full.db'));
    const plane = new FakePlane(provider({ down: false }));
    // The first call is slow; later ones answer at once — but a retry loop that never waited on a
    // timer would freeze the test run, so past 200 calls the router slows down.
    plane.latency = (call) => (call === 1 ? 50 : call > 200 ? 10 : null);
    const events: ReleaseEvent[] = [];
    const c = controller(plane, store, events);
    await c.submit({ ...release, name: 'full', bake: { minDurationMs: 60_000, minRequests: 0 } });
    // The disk fills up while the router applies the first tier's weight.
    store.full = true;
    // A timer fires, so the process is not spinning; the router is retried at the backoff's pace.
    await sleep(300);
    expect(plane.weights.length).toBeGreaterThan(1);
    expect(plane.weights.length).toBeLessThan(40);
    expect(events.some((e) => /confirmation could not be stored: SQLITE_FULL/.test(e.message))).toBe(true);
    // Once the store takes writes again, the confirmation is stored.
    store.full = false;
    await until(() => c.state('full')?.tracks[0]?.appliedWeight === 1000);
    await c.close();
    await store.close();
  }, 20_000);

  it('holds on metrics whose counts are not counts, and stores why', async () => {
    const store = new SqliteStore(join(dir, 'counts.db'));
    const plane = new FakePlane(provider({ down: false, canary: { requests: 20, errors: 21 } }));
    const events: ReleaseEvent[] = [];
    const c = controller(plane, store, events);
    await c.submit(release);
    const why =
      /^HOLD cart v2: no usable metrics .*the canary's metrics are not valid counts \(errors 21 of 20 requests\)/;
    await until(() => events.some((e) => why.test(e.message)));
    await sleep(100);
    const stored = await store.releaseEvents('r');
    expect(stored.filter((e) => why.test(e.message))).toHaveLength(1);
    expect(events.filter((e) => e.sequence === -1)).toEqual([]);
    expect(c.state('r')?.tracks[0]).toMatchObject({ phase: 'progressing', tierIndex: 0 });
    await c.close();
    await store.close();
  }, 20_000);

  it('cancels its timers on close: a canary due to stop later is left to the next run', async () => {
    const store = new SqliteStore(join(dir, 'close.db'));
    const plane = new FakePlane(provider({ down: false }));
    const c = controller(plane, store, [], 'hold', undefined, 200);
    await c.submit({ ...release, bake: { minDurationMs: 60_000, minRequests: 0 } });
    await c.command('r', { type: 'rollback' }, 'test');
    expect(await c.wait('r')).toBe('rolled-back');
    await c.close();
    await sleep(400);
    expect(plane.stopped).toBe(0);
    await store.close();
  }, 20_000);

  it('backs up before the first tier, and after a rollback checks, restores and verifies the data — also across a restart', async () => {
    const root = mkdtempSync(join(dir, 'mitigation-'));
    const data = join(root, 'orders.db');
    const repo = join(import.meta.dirname, '..', '..');
    const { db, write } = await shopOrders(data);
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
