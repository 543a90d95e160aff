import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { AugurError } from '../../core/errors.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { MetricHistoryQuery, MetricHistoryStore, MetricMinute } from '../../store/store.js';
import { BuiltinMetrics } from './builtin-metrics.js';
import { decodeSketch } from './sketch-codec.js';

const T0 = 1_700_000_040_000; // a whole minute
const MIN = 60_000;

/** Only the metric-minute half of the port, keyed like the real stores (a later save replaces). */
class MinuteStore implements MetricHistoryStore {
  readonly kind = 'memory-minutes';
  readonly rows = new Map<string, MetricMinute>();
  saves = 0;
  failWith: 'reject' | 'throw' | null = null;

  saveMetricMinutes(rows: readonly MetricMinute[]): Promise<void> {
    if (this.failWith === 'throw') throw new Error('disk on fire');
    if (this.failWith === 'reject') return Promise.reject(new Error('disk full'));
    this.saves++;
    for (const r of rows) this.rows.set(`${r.service}/${r.revision}/${r.minute}`, r);
    return Promise.resolve();
  }
  metricHistory(q: MetricHistoryQuery): Promise<MetricMinute[]> {
    const rows = [...this.rows.values()].filter(
      (r) =>
        (q.service === undefined || r.service === q.service) &&
        (q.revision === undefined || r.revision === q.revision) &&
        (q.from === undefined || r.minute >= q.from) &&
        (q.to === undefined || r.minute < q.to),
    );
    return Promise.resolve(rows.sort((a, b) => a.minute - b.minute));
  }
  row(minute: number): MetricMinute | undefined {
    return this.rows.get(`cart/v2/${minute}`);
  }
  private unused(): never {
    throw new Error('not used by the metrics collector');
  }
  recordProcess = (): Promise<void> => this.unused();
  forgetProcess = (): Promise<void> => this.unused();
  listProcesses = (): Promise<never[]> => this.unused();
  saveTraffic = (): Promise<void> => this.unused();
  listTraffic = (): Promise<never[]> => this.unused();
  schemaVersion = (): Promise<number> => this.unused();
  close = (): Promise<void> => Promise.resolve();
}

function setup(store: MetricHistoryStore, ringSeconds = 120) {
  const clock = new ManualClock(T0);
  const errors: AugurError[] = [];
  const metrics = new BuiltinMetrics({ clock, store, ringSeconds, onError: (e) => errors.push(e) });
  const request = (latencyMs: number, status = 200) => {
    metrics.requestStarted('cart', 'v2');
    metrics.requestEnded('cart', 'v2', latencyMs, status, status >= 500 ? 'error' : 'ok');
  };
  return { clock, metrics, request, errors };
}

const range = (from: number, to: number) => ({ service: 'cart', revision: 'v2', from, to });

describe('BuiltinMetrics minute persistence', () => {
  it('persists a minute once it closes, with its sketch', async () => {
    const store = new MinuteStore();
    const { clock, metrics, request } = setup(store);
    for (let i = 1; i <= 60; i++) {
      request(i, i % 20 === 0 ? 503 : 200);
      clock.advance(1000);
    }
    metrics.tick(); // now T0 + 60 s: minute T0 has closed
    await metrics.flush();
    const row = store.row(T0);
    expect(row).toMatchObject({
      minute: T0,
      requests: 60,
      errors: 3,
      timeouts: 0,
      cpuCores: null,
      rssBytes: null,
    });
    expect(row?.latencyMeanMs).toBeCloseTo(30.5);
    expect(row?.latencyP50Ms).toBeGreaterThanOrEqual(29 * 0.99);
    expect(row?.latencyP50Ms).toBeLessThanOrEqual(31 * 1.01);
    const sketch = decodeSketch(row?.sketch ?? null);
    expect(sketch?.count).toBe(60);
  });

  it('saves the partial minute on flush, then replaces it when the minute closes', async () => {
    const store = new MinuteStore();
    const { clock, metrics, request } = setup(store);
    request(5);
    await metrics.flush();
    expect(store.row(T0)?.requests).toBe(1);
    clock.advance(30_000);
    request(5);
    clock.advance(30_000);
    metrics.tick();
    await metrics.stop();
    expect(store.row(T0)?.requests).toBe(2);
  });

  it('writes nothing for minutes without data', async () => {
    const store = new MinuteStore();
    const { clock, metrics } = setup(store);
    clock.advance(5 * MIN);
    metrics.tick();
    await metrics.flush();
    expect(store.saves).toBe(0);
  });

  it('reports a failed save through onError and keeps recording', async () => {
    for (const failWith of ['reject', 'throw'] as const) {
      const store = new MinuteStore();
      store.failWith = failWith;
      const { clock, metrics, request, errors } = setup(store);
      request(5);
      clock.advance(MIN);
      expect(() => metrics.tick()).not.toThrow();
      await metrics.flush();
      expect(errors.map((e) => e.code)).toContain('METRICS_PERSIST_FAILED');
      request(5);
      expect((await metrics.aggregate(range(T0 + MIN, T0 + MIN + 1000))).requests).toBe(1);
    }
  });

  it('answers from the store once the ring has moved past a range', async () => {
    const store = new MinuteStore();
    const { clock, metrics, request } = setup(store);
    for (let s = 0; s < 180; s++) {
      request(s < 120 ? 10 : 100, s === 0 ? 500 : 200);
      clock.advance(1000);
      metrics.tick();
    }
    clock.advance(5 * MIN);
    metrics.tick();
    // Minutes T0, T0+1, T0+2 are only in the store now; their sketches merge.
    const a = await metrics.aggregate(range(T0, T0 + 3 * MIN));
    expect(a).toMatchObject({ requests: 180, errors: 1 });
    expect(a.latency.mean).toBeCloseTo((120 * 10 + 60 * 100) / 180);
    expect(a.latency.p50).toBeCloseTo(10, -0.5);
    expect(Math.abs((a.latency.p99 ?? 0) - 100) / 100).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(await metrics.exceedances({ ...range(T0, T0 + 3 * MIN), thresholdMs: 50 })).toEqual({
      total: 180,
      above: 60,
    });
    // Stored minutes keep no log-latency moments: unknown, never zero.
    expect(a.logLatency).toBeNull();
    // Stored minutes come back whole in a series.
    expect((await metrics.series(range(T0 + 1000, T0 + 2 * MIN))).map((w) => [w.from, w.to])).toEqual([
      [T0, T0 + MIN],
      [T0 + MIN, T0 + 2 * MIN],
    ]);
  });

  it('joins stored minutes and ring windows without counting a second twice', async () => {
    const store = new MinuteStore();
    const { clock, metrics, request } = setup(store);
    for (let s = 0; s < 300; s++) {
      request(10);
      clock.advance(1000);
      metrics.tick();
    }
    // Ring (120 s) holds seconds 180..299; minute 2 (120..179) only partly: it comes from the store.
    const a = await metrics.aggregate(range(T0, T0 + 300_000));
    expect(a.requests).toBe(300);
    const b = await metrics.aggregate(range(T0 + 200_000, T0 + 300_000));
    expect(b.requests).toBe(100);
  });
});

describe('BuiltinMetrics over the SQLite store', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads its own minutes back after a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'augur-metrics-'));
    const path = join(dir, 'augur.db');
    const first = setup(new SqliteStore(path));
    for (let s = 0; s < 90; s++) {
      first.request(s + 1);
      first.clock.advance(1000);
    }
    await first.metrics.stop();
    const store = new SqliteStore(path);
    const clock = new ManualClock(T0 + 10 * MIN);
    const again = new BuiltinMetrics({ clock, store });
    const a = await again.aggregate(range(T0, T0 + 2 * MIN));
    expect(a.requests).toBe(90);
    expect(a.latency.mean).toBeCloseTo(45.5);
    expect(Math.abs((a.latency.p50 ?? 0) - 45) / 45).toBeLessThanOrEqual(0.011);
    await store.close();
  });

  it('keeps what a previous run saved of the minute it restarted in', async () => {
    dir = mkdtempSync(join(tmpdir(), 'augur-metrics-'));
    const path = join(dir, 'augur.db');
    const first = setup(new SqliteStore(path));
    for (let s = 0; s < 30; s++) {
      first.request(10, s === 0 ? 503 : 200);
      first.clock.advance(1000);
    }
    await first.metrics.stop();

    const store = new SqliteStore(path);
    const clock = new ManualClock(T0 + 30_000);
    const errors: AugurError[] = [];
    const second = new BuiltinMetrics({ clock, store, ringSeconds: 120, onError: (e) => errors.push(e) });
    for (let s = 30; s < 60; s++) {
      second.requestStarted('cart', 'v2');
      second.requestEnded('cart', 'v2', 100, 200, 'ok');
      clock.advance(1000);
    }
    await second.flush(); // a partial save of the next minute must not disturb the folded one
    second.tick();
    await second.stop();
    expect(errors).toEqual([]);
    const [row] = await store.metricHistory({ service: 'cart', revision: 'v2', from: T0, to: T0 + MIN });
    expect(row).toMatchObject({ requests: 60, errors: 1 });
    expect(row?.latencyMeanMs).toBeCloseTo(55);
    expect(decodeSketch(row?.sketch ?? null)?.count).toBe(60);
    await store.close();
  });

  it('counts nothing twice across consecutive exact ranges that reach into a stored minute', async () => {
    dir = mkdtempSync(join(tmpdir(), 'augur-metrics-'));
    const path = join(dir, 'augur.db');
    const first = setup(new SqliteStore(path));
    for (let s = 0; s < 35; s++) {
      first.request(10);
      first.clock.advance(1000);
    }
    // Analysed up to T0 + 35 s, then the process stops (saving the partial minute).
    const before = await first.metrics.aggregate({ ...range(T0, T0 + 35_000), exact: true });
    expect(before.requests).toBe(35);
    await first.metrics.stop();

    const store = new SqliteStore(path);
    const clock = new ManualClock(T0 + 2 * MIN);
    const again = new BuiltinMetrics({ clock, store });
    const next = range(T0 + 35_000, T0 + 2 * MIN);
    // The stored minute holds the 35 requests already analysed: counted whole, they would count twice.
    expect((await again.aggregate(next)).requests).toBe(35);
    expect((await again.aggregate({ ...next, exact: true })).requests).toBe(0);
    expect((await again.exceedances({ ...next, exact: true, thresholdMs: 5 })).total).toBe(0);
    await store.close();
  });
});
