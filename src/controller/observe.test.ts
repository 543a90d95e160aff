import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../config/types.js';
import { ManualClock } from '../core/clock.js';
import { BuiltinMetrics } from '../metrics/builtin/builtin-metrics.js';
import type { MetricsProvider, WindowAggregate } from '../metrics/provider.js';
import type { ServiceTrack } from './core/types.js';
import { observeTrack } from './observe.js';
import type { Forecaster, PredictionSource } from './predicted/source.js';

const T0 = 1_700_000_040_000;

const service = {
  name: 'cart',
  stable: 'v1',
  resources: { replicas: 1, concurrency: 4, cpu: 0.5 },
  limits: { errorRate: 0.05 },
} as unknown as ServiceConfig;

const track = { service: 'cart', canary: 'v2', appliedWeight: 1000 } as unknown as ServiceTrack;
const noPrediction: PredictionSource = { predict: () => Promise.resolve(null) };

describe('observeTrack', () => {
  it('passes the log-latency moments on, and the stable’s of the window before', async () => {
    const clock = new ManualClock(T0);
    const metrics = new BuiltinMetrics({ clock });
    const request = (revision: string, latencyMs: number, status = 200): void => {
      metrics.requestStarted('cart', revision);
      metrics.requestEnded('cart', revision, latencyMs, status, status >= 500 ? 'error' : 'ok');
    };
    request('v1', 20);
    clock.advance(1000);
    request('v1', 10);
    request('v1', 40);
    request('v2', 30);
    request('v2', 90, 503);
    clock.advance(1000);
    const sources = { provider: metrics, crashLooping: () => false };
    const o = await observeTrack(sources, noPrediction, service, track, 'v1', T0 + 1000, T0 + 2000);
    expect(o.canary?.requests).toBe(2);
    expect(o.canary?.logLatency).toEqual({ n: 1, sum: Math.log(30), sumSq: Math.log(30) ** 2 });
    expect(o.stable?.logLatency?.n).toBe(2);
    expect(o.stable?.logLatency?.sum).toBeCloseTo(Math.log(400), 12);
    expect(o.stable?.logLatencyBefore).toEqual({ n: 1, sum: Math.log(20), sumSq: Math.log(20) ** 2 });
  });

  it('counts the canary against the stable’s median scaled by the tolerated increase', async () => {
    const clock = new ManualClock(T0);
    const metrics = new BuiltinMetrics({ clock });
    const request = (revision: string, latencyMs: number): void => {
      metrics.requestStarted('cart', revision);
      metrics.requestEnded('cart', revision, latencyMs, 200, 'ok');
    };
    for (const ms of [18, 20, 22]) request('v1', ms);
    clock.advance(1000);
    for (const ms of [19, 21]) request('v1', ms);
    for (const ms of [25, 45, 70]) request('v2', ms);
    clock.advance(1000);
    const sources = { provider: metrics, crashLooping: () => false };
    const window = [T0 + 1000, T0 + 2000] as const;
    const strict = await observeTrack(sources, noPrediction, service, track, 'v1', ...window);
    const tolerant = await observeTrack(sources, noPrediction, service, track, 'v1', ...window, {
      latencyIncrease: 1,
    });
    const median = strict.latencySplit?.thresholdMs ?? Number.NaN;
    expect(median).toBeGreaterThan(18);
    expect(median).toBeLessThan(22);
    expect(strict.latencySplit?.canaryAbove).toBe(3);
    // Twice the median (≈ 40 ms) plus the margin: only 45 and 70 ms count.
    expect(tolerant.latencySplit?.canaryThresholdMs).toBeCloseTo(2 * median + 1, 6);
    expect(tolerant.latencySplit?.canaryAbove).toBe(2);
    expect(tolerant.latencySplit?.stableAbove).toBe(strict.latencySplit?.stableAbove);
  });

  it('reads counts that are not counts as a window without data, and a CPU or risk figure that is no number as unknown', async () => {
    const aggregate = (q: { revision: string }, canary: Partial<WindowAggregate>): WindowAggregate => ({
      service: 'cart',
      revision: q.revision,
      from: T0,
      to: T0 + 1000,
      requests: 100,
      errors: 0,
      timeouts: 0,
      resets: 0,
      errorRate: 0,
      latency: { p50: 1, p95: 2, p99: 3, mean: 1, max: 4 },
      inflightMax: 1,
      cpuCores: 0.1,
      rssBytes: null,
      windows: 1,
      ...(q.revision === 'v2' ? canary : {}),
    });
    const provider = (canary: Partial<WindowAggregate>): MetricsProvider => ({
      aggregate: (q) => Promise.resolve(aggregate(q, canary)),
      quantile: () => Promise.resolve(null),
      exceedances: () => Promise.resolve({ total: 100, above: 0 }),
      series: () => Promise.resolve([]),
      revisions: () => Promise.resolve([]),
    });
    const read = (canary: Partial<WindowAggregate>, forecaster?: Forecaster) =>
      observeTrack(
        { provider: provider(canary), crashLooping: () => false },
        noPrediction,
        service,
        tiered,
        'v1',
        T0,
        T0 + 1000,
        forecaster === undefined ? {} : { forecaster },
      );
    const tiered = {
      ...track,
      tierIndex: 0,
      tiers: [
        { share: 10, startedAt: T0 - 5000, confirmedAt: T0 - 4000 },
        { share: 100, startedAt: null, confirmedAt: null },
      ],
    } as unknown as ServiceTrack;
    for (const [canary, why] of [
      [{ requests: 20, errors: 21 }, "the canary's metrics are not valid counts (errors 21 of 20 requests)"],
      [{ requests: Number.NaN }, "the canary's metrics are not valid counts (requests NaN)"],
      [{ errors: -1 }, "the canary's metrics are not valid counts (errors -1 of 100 requests)"],
      [
        { logLatency: { n: 2, sum: Number.POSITIVE_INFINITY, sumSq: 1 } },
        "the canary's metrics are not valid counts (log-latency moments n 2, Σ Infinity, Σ² 1)",
      ],
    ] as const) {
      const o = await read(canary);
      expect(o).toMatchObject({ canary: null, stable: null, unavailable: why });
    }
    expect((await read({ cpuCores: Number.NaN })).canary?.cpuCores).toBeNull();
    const nan: Forecaster = {
      forecast: () => Promise.resolve({ risk: Number.NaN, breachTier: null, detail: 'no figure' }),
    };
    const forecast = await read({}, nan);
    expect(forecast.risk).toBeNull();
    expect(forecast.forecast).toMatchObject({ breachTier: null, detail: 'no figure' });
  });
});
