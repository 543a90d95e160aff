import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../config/index.js';
import type { ApplicationConfig } from '../config/types.js';
import {
  buildScenarios,
  burstSegments,
  dependencies,
  parseScenarioWeights,
  PEAK_FACTOR,
} from './scenarios.js';
import { configuredMix, workloadFromHistory } from './workload.js';
import type { MetricMinute } from '../store/store.js';

async function shop(): Promise<ApplicationConfig> {
  const loaded = await loadConfiguration(['examples/shop/augur.yaml']);
  if (!loaded.ok) throw new Error('shop config invalid');
  return loaded.value.application;
}

function minute(service: string, minuteIndex: number, requests: number): MetricMinute {
  return {
    service,
    revision: 'v1',
    minute: minuteIndex * 60_000,
    requests,
    errors: 0,
    timeouts: 0,
    latencyP50Ms: 1,
    latencyP95Ms: 2,
    latencyP99Ms: 3,
    latencyMeanMs: 1,
    cpuCores: 0.01,
    rssBytes: 1,
    sketch: null,
  };
}

describe('workload', () => {
  it('falls back to the given rate without history, with the configured call mix', async () => {
    const app = await shop();
    const w = workloadFromHistory(app, [], { ratePerSec: 42 });
    expect(w.nominalRatePerSec).toBe(42);
    expect(w.history).toBeNull();
    expect(w.requestMix).toEqual({ frontend: 1, catalog: 2, cart: 1, payments: 1 });
    expect(configuredMix(app)['payments']).toBe(1);
  });

  it('takes the median minute as nominal, the largest as peak, and the observed mix', async () => {
    const app = await shop();
    const rows = [60, 120, 180, 600].flatMap((n, i) => [
      minute('frontend', i, n),
      minute('catalog', i, 2 * n),
    ]);
    const w = workloadFromHistory(app, rows, { ratePerSec: 1, minMinutes: 4 });
    expect(workloadFromHistory(app, rows, { ratePerSec: 7 }).history).toBeNull(); // 4 minutes are too few by default
    expect(w.nominalRatePerSec).toBeCloseTo(2.5); // median of 1, 2, 3, 10 req/s
    expect(w.peakRatePerSec).toBeCloseTo(10);
    expect(w.requestMix['catalog']).toBeCloseTo(2);
    expect(w.history).toEqual({ minutes: 4, from: 0, to: 4 * 60_000 });
    expect(w.burstiness).toBeGreaterThan(0.5);
    expect(w.dailyShape).toBeNull();
  });
});

describe('scenarios', () => {
  it('builds every family with weights summing to 1 and one slow/down per dependency', async () => {
    const app = await shop();
    const w = workloadFromHistory(app, [], { ratePerSec: 50 });
    const scenarios = buildScenarios(app, w);
    expect(dependencies(app).sort()).toEqual(['cart', 'catalog', 'payments']);
    expect(scenarios.map((s) => s.name)).toEqual([
      'nominal',
      'peak',
      'spike',
      'slow:catalog',
      'slow:cart',
      'slow:payments',
      'down:catalog',
      'down:cart',
      'down:payments',
      'retry-storm',
    ]);
    expect(scenarios.reduce((a, s) => a + s.weight, 0)).toBeCloseTo(1, 12);
    expect(scenarios.find((s) => s.name === 'peak')?.ratePerSec).toBeCloseTo(50 * PEAK_FACTOR);
    expect(scenarios.find((s) => s.name === 'down:payments')?.perturb).toEqual({ payments: { down: true } });
  });

  it('parses --scenarios with default and explicit weights, and refuses unknown names', async () => {
    expect(parseScenarioWeights('nominal=0.5, peak')).toEqual({ nominal: 0.5, peak: 0.2 });
    expect(() => parseScenarioWeights('nominal,sideways')).toThrow(/unknown scenario "sideways"/);
    expect(() => parseScenarioWeights('peak=-1')).toThrow(/≥ 0/);
    expect(() => parseScenarioWeights('peak=')).toThrow(/≥ 0, got ""/);
    expect(() => parseScenarioWeights('nominal=0,peak=0')).toThrow(/sum to zero/);
    expect(parseScenarioWeights('nominal=0,peak=1')).toEqual({ nominal: 0, peak: 1 });
    const app = await shop();
    const only = buildScenarios(app, workloadFromHistory(app, [], { ratePerSec: 10 }), {
      nominal: 3,
      peak: 1,
    });
    expect(only.map((s) => [s.name, s.weight])).toEqual([
      ['nominal', 0.75],
      ['peak', 0.25],
    ]);
  });
});

describe('burstiness', () => {
  it('varies the nominal rate like history, with the same mean, and not at all when steady', () => {
    const segments = burstSegments(0.3);
    const mean = segments.reduce((a, s) => a + s.multiplier, 0) / segments.length;
    expect(mean).toBeCloseTo(1, 12);
    expect(segments[0]?.multiplier).toBeCloseTo(1.3);
    expect(segments[1]?.multiplier).toBeCloseTo(0.7);
    expect(burstSegments(0.01)).toEqual([]);
    expect(burstSegments(3)[0]?.multiplier).toBeCloseTo(1.5);
  });
});
