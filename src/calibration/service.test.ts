import { describe, expect, it } from 'vitest';
import type { ApplicationConfig } from '../config/types.js';
import { ManualClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { BuiltinMetrics } from '../metrics/builtin/builtin-metrics.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { FEATURE_NAMES } from './features.js';
import { WindowIngestor } from './ingest.js';
import { ModelPredictionSource } from './prediction-source.js';
import { ModelService } from './service.js';
import { modelStatus } from './status.js';
import { syntheticRows } from './test-rows.js';

const T0 = 1_700_000_000_000;

const cart = {
  name: 'cart',
  stable: 'v1',
  revisions: { v1: { name: 'v1' }, v2: { name: 'v2' } },
  resources: { replicas: 2, concurrency: 8, cpu: 0.5 },
  policies: { timeoutMs: 1_000, retries: 0 },
  calls: [],
  limits: {},
};
const app = { name: 'shop', services: { cart } } as unknown as ApplicationConfig;

/** `seconds` of traffic: `rate` requests a second to v1, latencies log-normal around 10 ms. */
function serve(
  metrics: BuiltinMetrics,
  clock: ManualClock,
  random: SeededRandom,
  seconds: number,
  rate = 20,
): void {
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < rate; i++) {
      metrics.requestStarted('cart', 'v1');
      const latency = 10 * Math.exp(0.3 * (random.next() + random.next() + random.next() - 1.5));
      metrics.requestEnded('cart', 'v1', latency, 200, 'ok');
    }
    clock.advance(1_000);
  }
}

describe('the model service', () => {
  it('turns every window into a row, scored against the ranges given before it was observed', async () => {
    const clock = new ManualClock(T0);
    const metrics = new BuiltinMetrics({ clock });
    const store = new SqliteStore(':memory:');
    const random = new SeededRandom(1);
    try {
      const service = await ModelService.open({
        store,
        clock,
        ingestor: new WindowIngestor(app, metrics, { windowMs: 10_000, profileWindowMs: 30_000 }),
        worker: false,
      });
      // Nothing served yet: no row. Then a window needs a profile from the traffic before it.
      expect(await service.step()).toEqual([]);
      serve(metrics, clock, random, 10);
      expect(await service.step()).toEqual([]);
      serve(metrics, clock, random, 20);
      expect(await service.step()).toHaveLength(2);
      const made = [];
      for (let i = 0; i < 12; i++) {
        serve(metrics, clock, random, 10);
        made.push(...(await service.step()));
      }
      expect(made).toHaveLength(12);
      const rows = await store.modelRows();
      expect(rows).toHaveLength(14);
      const first = rows[0];
      expect(first).toMatchObject({ service: 'cart', revision: 'v1', windowMs: 10_000, requests: 200 });
      // The simulator at 20 req/s from the profile: p99 around the profile's tail, never the window's own.
      expect(first?.simulated.latencyP99Ms).toBeGreaterThan(10);
      expect(first?.simulated.latencyP99Ms).toBeLessThan(40);
      expect(first?.observed.latencyP99Ms).toBeGreaterThan(10);
      expect(first?.ranges?.['latencyP99Ms']?.source).toBe('simulation-widened');
      expect(rows[13]?.ranges?.['latencyP99Ms']?.source).toBe('simulation-conformal');
      // Each row carries what the windows before it showed: none for the first, 13 for the 14th.
      const recent = FEATURE_NAMES.indexOf('recentWindows');
      expect(first?.features[recent]).toBe(0);
      expect(rows[13]?.features[recent]).toBeCloseTo(Math.log1p(13), 12);
      expect(rows[13]?.features[FEATURE_NAMES.indexOf('recentOwn')]).toBe(1);
      const status = await modelStatus(store);
      expect(status.current).toBeNull();
      expect(status.data.rows).toBe(14);
      const p99 = status.coverage.find((c) => c.service === 'cart' && c.metric === 'latencyP99Ms');
      expect(p99?.n).toBe(14);
      expect(p99?.coverage).toBeGreaterThan(0.5);
      // The canary's YELLOW edge comes from the same simulation and ranges, at the canary's load.
      const source = new ModelPredictionSource(metrics, () => service.ranges(), null, {
        profileWindowMs: 30_000,
      });
      const edge = await source.predict(
        cart as unknown as ApplicationConfig['services'][string],
        'v1',
        'v1',
        clock.now() - 10_000,
        clock.now(),
      );
      expect(edge).toMatchObject({ nominalTail: 0.05, per: 'window' });
      expect(edge?.latencyHighMs).toBeGreaterThan(first?.simulated.latencyP99Ms ?? 0);
    } finally {
      await store.close();
    }
  });

  it('retrains on a worker thread without holding up the event loop, then gives learned ranges', async () => {
    const clock = new ManualClock(T0);
    const store = new SqliteStore(':memory:');
    try {
      await store.saveModelRows(syntheticRows(6_000, 11).map((r) => ({ ...r, modelId: null, ranges: null })));
      const lines: string[] = [];
      const service = await ModelService.open({
        store,
        clock,
        ingestor: new WindowIngestor(app, new BuiltinMetrics({ clock })),
        say: (line) => lines.push(line),
      });
      expect(service.ranges().source('latencyP99Ms')).toBe('simulation-conformal');
      const gaps: number[] = [];
      let last = performance.now();
      const tick = setInterval(() => {
        const now = performance.now();
        gaps.push(now - last);
        last = now;
      }, 10);
      const started = performance.now();
      let set;
      try {
        set = await service.trainNow();
      } finally {
        clearInterval(tick);
      }
      const elapsed = performance.now() - started;
      expect(set?.rows).toBe(6_000);
      expect(elapsed).toBeGreaterThan(300);
      expect(gaps.length).toBeGreaterThan(elapsed / 10 / 3);
      // The fits run on the worker; this thread reads rows in pages and stores the version (about
      // 2 MB of JSON). Ticks are ≥ 1 s apart: a pause of a fraction of that delays none of them.
      expect(Math.max(...gaps)).toBeLessThan(250);
      console.log(`largest event-loop gap while retraining: ${Math.max(...gaps).toFixed(0)} ms`);
      expect(service.ranges().source('latencyP99Ms')).toBe('learned');
      expect((await store.latestModelVersion())?.id).toBe(set?.id);
      expect(lines[0]).toMatch(/^model s-[0-9a-f]{8} trained on 6000 rows/);
      const status = await modelStatus(store);
      expect(status.current?.metrics.latencyP99Ms?.validation?.n).toBe(1_200);
      expect(status.lastRetrain).toBe(T0);
    } finally {
      await store.close();
    }
  }, 60_000);
});
