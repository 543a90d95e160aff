/** A realistic SimulationResult for the report's tests: the shop demo with cart v3 as the canary. */
import type { ServiceProfile } from '../../sim/profile.js';
import type { PredictedMetric, PredictedRangeEntry, SimulationResult, UtilisationCurve } from '../types.js';

export const TIERS: readonly number[] = [0.1, 1, 5, 25, 50, 100];

function series(
  service: string,
  revision: string,
  metric: PredictedMetric,
  limit: number | null,
  points: readonly (readonly [low: number, high: number, breach: number])[],
): PredictedRangeEntry[] {
  return points.map(([low, high, breachProbability], i) => ({
    service,
    revision,
    metric,
    tier: TIERS[i] ?? 100,
    low,
    high,
    limit,
    breachProbability,
  }));
}

function profile(service: string, revision: string, p50: number, cpuMs: number): ServiceProfile {
  return {
    service,
    revision,
    serviceTime: { kind: 'lognormal', medianMs: p50, sigma: 0.4 },
    serviceTimeMs: { p50, p95: p50 * 1.9, p99: p50 * 2.5, mean: p50 * 1.1 },
    errorProbability: 0.001,
    cpuMsPerRequest: cpuMs,
    memoryGrowthMbPer1k: 0,
    requests: 12_000,
    source: 'sandbox',
  };
}

function curve(
  service: string,
  revision: string,
  cpuPerMultiple: number,
  slotsPerMultiple: number,
): UtilisationCurve {
  return {
    service,
    revision,
    points: [0.5, 1, 1.5, 2, 2.5, 3].map((m) => ({
      loadMultiple: m,
      cpu: m * cpuPerMultiple,
      slots: Math.min(1, m * slotsPerMultiple),
    })),
  };
}

/** Charts expected: cart × 5 metrics, frontend × 3, catalog × 1. */
export const CHARTS: readonly (readonly [string, PredictedMetric])[] = [
  ['cart', 'latencyP50Ms'],
  ['cart', 'latencyP95Ms'],
  ['cart', 'latencyP99Ms'],
  ['cart', 'errorRate'],
  ['cart', 'cpuUtilisation'],
  ['frontend', 'latencyP50Ms'],
  ['frontend', 'latencyP99Ms'],
  ['frontend', 'errorRate'],
  ['catalog', 'latencyP99Ms'],
];

export const CPU_DETAIL = 'cart v3 needs 1.3× its CPU allocation at the 100% tier under nominal load';

export function shopResult(): SimulationResult {
  return {
    release: 'cart-v3',
    application: 'shop',
    riskScore: 0.62,
    confidence: 0.9,
    tiers: TIERS,
    ranges: [
      ...series('cart', 'v3', 'latencyP50Ms', null, [
        [8.1, 9.4, 0],
        [8.2, 9.6, 0],
        [8.6, 10.4, 0],
        [10.2, 13.9, 0],
        [14.8, 22.5, 0],
        [48.3, 140.2, 0],
      ]),
      ...series('cart', 'v3', 'latencyP95Ms', null, [
        [15.2, 18.1, 0],
        [15.4, 18.6, 0],
        [16.3, 20.4, 0],
        [21.9, 31.5, 0],
        [35.1, 58.8, 0],
        [160.4, 420.9, 0],
      ]),
      ...series('cart', 'v3', 'latencyP99Ms', 250, [
        [20.3, 25.7, 0],
        [20.9, 26.8, 0],
        [22.8, 30.1, 0],
        [33.5, 49.9, 0],
        [61.2, 102.4, 0.04],
        [310.5, 890.3, 0.93],
      ]),
      ...series('cart', 'v3', 'errorRate', 0.01, [
        [0, 0.0031, 0],
        [0.0004, 0.0022, 0],
        [0.0006, 0.0017, 0],
        [0.0007, 0.0015, 0],
        [0.0008, 0.0016, 0],
        [0.0012, 0.0143, 0.21],
      ]),
      ...series('cart', 'v3', 'cpuUtilisation', 0.85, [
        [0.02, 0.03, 0],
        [0.05, 0.07, 0],
        [0.12, 0.16, 0],
        [0.31, 0.38, 0],
        [0.62, 0.74, 0.06],
        [1.21, 1.4, 1],
      ]),
      ...series('frontend', 'v1', 'latencyP50Ms', null, [
        [12.1, 13.3, 0],
        [12.1, 13.4, 0],
        [12.2, 13.6, 0],
        [12.6, 14.5, 0],
        [13.8, 16.9, 0],
        [30.2, 62.7, 0],
      ]),
      ...series('frontend', 'v1', 'latencyP99Ms', 400, [
        [40.2, 48.3, 0],
        [40.5, 49.1, 0],
        [41.9, 52.2, 0],
        [48.8, 66.4, 0],
        [70.3, 119.6, 0.02],
        [352.8, 1010.6, 0.71],
      ]),
      ...series('frontend', 'v1', 'errorRate', 0.01, [
        [0.0005, 0.0012, 0],
        [0.0005, 0.0012, 0],
        [0.0006, 0.0013, 0],
        [0.0006, 0.0014, 0],
        [0.0007, 0.0016, 0],
        [0.0015, 0.0151, 0.24],
      ]),
      ...series('catalog', 'v1', 'latencyP99Ms', 300, [
        [30.1, 36.4, 0],
        [30.1, 36.5, 0],
        [30.2, 36.8, 0],
        [30.4, 37.2, 0],
        [30.6, 37.9, 0],
        [31.1, 39.8, 0],
      ]),
    ],
    failurePoints: [
      {
        kind: 'cpu-saturation',
        service: 'cart',
        revision: 'v3',
        resource: 'cpu',
        loadMultiple: null,
        tier: 100,
        scenario: 'nominal',
        detail: CPU_DETAIL,
      },
      {
        kind: 'concurrency-saturation',
        service: 'cart',
        revision: 'v3',
        resource: 'concurrency',
        loadMultiple: 2.5,
        tier: 50,
        scenario: 'spike',
        detail: 'cart v3 fills its 32 concurrency slots at 2.5× nominal load on the 50% tier',
      },
    ],
    scenarios: [
      {
        name: 'nominal',
        weight: 0.6,
        runs: 120,
        breachProbability: 0.58,
        description: 'Recorded load as observed',
      },
      {
        name: 'diurnal-peak',
        weight: 0.3,
        runs: 60,
        breachProbability: 0.65,
        description: 'The daily peak, 1.8×',
      },
      { name: 'spike', weight: 0.1, runs: 20, breachProbability: 0.8, description: 'A 3× spike for 60 s' },
    ],
    seeds: Array.from({ length: 200 }, (_, i) => 1_000 + i * 7_919),
    utilisation: [
      curve('cart', 'v3', 0.47, 0.3),
      curve('frontend', 'v1', 0.2, 0.25),
      curve('catalog', 'v1', 0.1, 0.1),
    ],
    breachTier: 100,
    modelVersion: 'queueing-sim/1',
    provenance: {
      profiles: [
        profile('frontend', 'v1', 12.4, 1.8),
        profile('catalog', 'v1', 6.2, 0.9),
        profile('cart', 'v2', 4.1, 0.7),
        profile('cart', 'v3', 7.9, 2.35),
      ],
      history: { minutes: 1_440, from: Date.UTC(2025, 0, 14, 9, 0), to: Date.UTC(2025, 0, 15, 9, 0) },
      nominalRatePerSec: 42.5,
      peakRatePerSec: 118,
    },
    summary: 'cart saturates its CPU at the 100% tier (1.3× allocation) under nominal load',
  };
}
