import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { RequestOutcome } from '../observer.js';
import { BuiltinMetrics } from './builtin-metrics.js';

const T0 = 1_700_000_040_000; // a whole minute
const range = (from: number, to: number) => ({ service: 'cart', revision: 'v2', from, to });

function setup(ringSeconds = 900) {
  const clock = new ManualClock(T0);
  const metrics = new BuiltinMetrics({ clock, ringSeconds });
  const request = (latencyMs: number, status = 200, outcome: RequestOutcome = 'ok', revision = 'v2') => {
    metrics.requestStarted('cart', revision);
    metrics.requestEnded('cart', revision, latencyMs, status, outcome);
  };
  return { clock, metrics, request };
}

describe('BuiltinMetrics windows and aggregates', () => {
  it('counts requests and classifies errors, timeouts and resets', async () => {
    const { clock, metrics, request } = setup();
    request(10);
    request(20, 503, 'error');
    clock.advance(1000);
    request(30, 504, 'timeout');
    request(40, 502, 'reset');
    request(50, 500, 'ok'); // the router answered 500 itself: still an error for the client
    request(60, 404);
    const a = await metrics.aggregate(range(T0, T0 + 2000));
    expect(a).toMatchObject({ requests: 6, errors: 4, timeouts: 1, resets: 1, windows: 2 });
    expect(a.errorRate).toBeCloseTo(4 / 6);
    expect(a.latency.mean).toBeCloseTo(35);
    expect(a.latency.max).toBe(60);
    expect(a.latency.p50).toBeGreaterThanOrEqual(30 * 0.99);
    expect(a.latency.p50).toBeLessThanOrEqual(30 * 1.01);
    expect(a.cpuCores).toBeNull();
    expect(a.rssBytes).toBeNull();
  });

  it('sums ln(latency) and its square over successful requests only', async () => {
    const { clock, metrics, request } = setup();
    request(10);
    request(40);
    request(20, 503, 'error');
    clock.advance(1000);
    request(1000, 504, 'timeout');
    request(0); // a zero latency (a bug upstream) is floored at 1 µs, never −∞
    const a = await metrics.aggregate(range(T0, T0 + 2000));
    const logs = [Math.log(10), Math.log(40), Math.log(0.001)];
    expect(a.logLatency?.n).toBe(3);
    expect(a.logLatency?.sum).toBeCloseTo(
      logs.reduce((s, l) => s + l, 0),
      12,
    );
    expect(a.logLatency?.sumSq).toBeCloseTo(
      logs.reduce((s, l) => s + l * l, 0),
      12,
    );
    const first = await metrics.aggregate(range(T0, T0 + 1000));
    expect(first.logLatency).toEqual({
      n: 2,
      sum: Math.log(10) + Math.log(40),
      sumSq: Math.log(10) ** 2 + Math.log(40) ** 2,
    });
    const [w1, w2] = await metrics.series(range(T0, T0 + 2000));
    expect((w1?.logLatency?.n ?? 0) + (w2?.logLatency?.n ?? 0)).toBe(3);
    expect((await metrics.aggregate(range(T0 + 5000, T0 + 6000))).logLatency).toEqual({
      n: 0,
      sum: 0,
      sumSq: 0,
    });
  });

  it('keeps ranges half-open and per revision', async () => {
    const { clock, metrics, request } = setup();
    request(5);
    clock.advance(1000);
    request(5);
    request(5, 200, 'ok', 'v1');
    expect((await metrics.aggregate(range(T0, T0 + 1000))).requests).toBe(1);
    expect((await metrics.aggregate(range(T0 + 1000, T0 + 2000))).requests).toBe(1);
    expect((await metrics.aggregate({ ...range(T0, T0 + 2000), revision: 'v1' })).requests).toBe(1);
  });

  it('reports silence as nulls, never as health', async () => {
    const { metrics } = setup();
    const a = await metrics.aggregate(range(T0, T0 + 5000));
    expect(a).toMatchObject({ requests: 0, errors: 0, errorRate: null, windows: 0, inflightMax: 0 });
    expect(a.latency).toEqual({ p50: null, p95: null, p99: null, mean: null, max: null });
    expect(await metrics.quantile({ ...range(T0, T0 + 5000), q: 0.99 })).toBeNull();
  });

  it('tracks the most requests in flight per window, carrying long requests over', async () => {
    const { clock, metrics } = setup();
    for (let i = 0; i < 3; i++) metrics.requestStarted('cart', 'v2');
    metrics.requestEnded('cart', 'v2', 5, 200, 'ok');
    clock.advance(1000);
    metrics.requestEnded('cart', 'v2', 1005, 200, 'ok');
    const [first, second] = await metrics.series(range(T0, T0 + 2000));
    expect(first?.inflightMax).toBe(3);
    expect(second?.inflightMax).toBe(2);
    // An end without a start does not drive the gauge below zero.
    metrics.requestEnded('cart', 'v2', 5, 200, 'ok');
    metrics.requestEnded('cart', 'v2', 5, 200, 'ok');
    metrics.requestStarted('cart', 'v2');
    expect((await metrics.aggregate(range(T0 + 1000, T0 + 2000))).inflightMax).toBe(2);
  });

  it('returns one summary per second with data, oldest first', async () => {
    const { clock, metrics, request } = setup();
    request(1);
    clock.advance(3000);
    request(2);
    request(3);
    const series = await metrics.series(range(T0, T0 + 10_000));
    expect(series.map((w) => [w.from, w.to, w.requests])).toEqual([
      [T0, T0 + 1000, 1],
      [T0 + 3000, T0 + 4000, 2],
    ]);
  });

  it('attributes requests to the newest window when the clock steps back', async () => {
    const { clock, metrics, request } = setup();
    clock.advance(5000);
    request(1);
    clock.set(T0);
    request(1);
    expect((await metrics.aggregate(range(T0 + 5000, T0 + 6000))).requests).toBe(2);
  });

  it('forgets windows older than the ring', async () => {
    const { clock, metrics, request } = setup(120);
    request(1);
    clock.advance(119_000);
    request(1);
    expect((await metrics.aggregate(range(T0, T0 + 120_000))).requests).toBe(2);
    clock.advance(1000);
    request(1);
    // Second T0 was overwritten by second T0 + 120 s, which lies outside the queried range.
    expect((await metrics.aggregate(range(T0, T0 + 120_000))).requests).toBe(1);
    expect((await metrics.aggregate(range(T0, T0 + 1000))).requests).toBe(0);
  });

  it('releases the ring of a revision idle for longer than the ring, but remembers it', async () => {
    const { clock, metrics, request } = setup(120);
    request(1);
    clock.advance(121_000);
    metrics.tick();
    expect((await metrics.aggregate(range(T0, T0 + 1000))).requests).toBe(0);
    expect(await metrics.revisions()).toEqual([{ service: 'cart', revision: 'v2', lastSeen: T0 }]);
    request(1);
    expect((await metrics.aggregate(range(T0 + 121_000, T0 + 122_000))).requests).toBe(1);
  });

  it('counts exceedances of a latency threshold', async () => {
    const { clock, metrics, request } = setup();
    for (let i = 1; i <= 100; i++) {
      request(i);
      if (i % 10 === 0) clock.advance(1000);
    }
    const e = await metrics.exceedances({ ...range(T0, T0 + 10_000), thresholdMs: 90.5 });
    expect(e).toEqual({ total: 100, above: 10 });
    expect(await metrics.exceedances({ ...range(T0, T0 + 10_000), thresholdMs: 1000 })).toEqual({
      total: 100,
      above: 0,
    });
  });

  it('rejects unaligned and inverted ranges and bad quantiles', async () => {
    const { metrics } = setup();
    await expect(metrics.aggregate(range(T0 + 1, T0 + 1000))).rejects.toMatchObject({
      code: 'METRICS_RANGE_UNALIGNED',
    });
    await expect(metrics.aggregate(range(T0 + 1000, T0))).rejects.toMatchObject({
      code: 'METRICS_RANGE_INVERTED',
    });
    await expect(metrics.quantile({ ...range(T0, T0 + 1000), q: 1.5 })).rejects.toMatchObject({
      code: 'METRICS_QUANTILE_RANGE',
    });
  });

  it('refuses a ring too small to hold a closed minute until it is persisted', () => {
    expect(() => new BuiltinMetrics({ clock: new ManualClock(T0), ringSeconds: 60 })).toThrow(/at least 120/);
  });

  it('conserves counts: windows add up to what was recorded', async () => {
    const event = fc.record({
      advanceMs: fc.integer({ min: 0, max: 2500 }),
      latencyMs: fc.double({ min: 0, max: 10_000, noNaN: true }),
      status: fc.constantFrom(200, 404, 500, 502, 503, 504),
      outcome: fc.constantFrom<RequestOutcome>('ok', 'error', 'timeout', 'reset'),
      revision: fc.constantFrom('v1', 'v2'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 300 }), async (events) => {
        const clock = new ManualClock(T0);
        const metrics = new BuiltinMetrics({ clock });
        const expected = { v1: { requests: 0, errors: 0 }, v2: { requests: 0, errors: 0 } };
        for (const e of events) {
          clock.advance(e.advanceMs);
          metrics.requestStarted('cart', e.revision);
          metrics.requestEnded('cart', e.revision, e.latencyMs, e.status, e.outcome);
          expected[e.revision].requests++;
          if (e.outcome !== 'ok' || e.status >= 500) expected[e.revision].errors++;
        }
        const to = Math.floor(clock.now() / 1000) * 1000 + 1000;
        for (const revision of ['v1', 'v2'] as const) {
          const q = { service: 'cart', revision, from: T0, to };
          const series = await metrics.series(q);
          const total = await metrics.aggregate(q);
          expect(series.reduce((n, w) => n + w.requests, 0)).toBe(expected[revision].requests);
          expect(total.requests).toBe(expected[revision].requests);
          expect(total.errors).toBe(expected[revision].errors);
          const sketchTotal = (await metrics.exceedances({ ...q, thresholdMs: -1 })).total;
          expect(sketchTotal).toBe(expected[revision].requests);
        }
      }),
      { numRuns: 100 },
    );
  });
});
