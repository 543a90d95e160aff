import { describe, expect, it } from 'vitest';
import type { CalleeFigures, LatencyFigures, RevisionMeasurement, StepFigures } from './estimate.js';
import { estimateProfile, fitLognormal, MIN_SERVICE_MS, ownServiceTime, slope } from './estimate.js';

const lat = (p50: number, p95: number, p99: number, mean: number): LatencyFigures => ({
  p50,
  p95,
  p99,
  mean,
});

function step(over: Partial<StepFigures> = {}): StepFigures {
  return {
    rate: 20,
    durationMs: 2000,
    requests: 40,
    errors: 0,
    latency: lat(5, 7, 9, 5.5),
    callees: [],
    cpuSeconds: 0.12,
    rssBytes: 100 * 1024 * 1024,
    ...over,
  };
}

const callee = (over: Partial<CalleeFigures>): CalleeFigures => ({
  service: 'payments',
  mode: 'sequential',
  perRequest: 1,
  callsPerRequest: 1,
  latency: lat(2, 3, 4, 2.2),
  ...over,
});

describe('ownServiceTime', () => {
  it('is the latency of a leaf service less the hop', () => {
    expect(ownServiceTime(step(), 0.5)).toEqual(lat(4.5, 6.5, 8.5, 5));
  });

  it('subtracts sequential calls by measured calls per request, parallel ones by the slowest', () => {
    const own = ownServiceTime(
      step({
        latency: lat(20, 30, 40, 22),
        callees: [
          // Two calls per request measured (80 for 40), though one is configured.
          callee({ callsPerRequest: 2 }),
          callee({ service: 'a', mode: 'parallel', latency: lat(3, 5, 6, 3.5) }),
          callee({ service: 'b', mode: 'parallel', latency: lat(4, 4, 5, 4) }),
        ],
      }),
    );
    expect(own).toMatchObject({ p50: 20 - 4 - 4, p95: 30 - 6 - 5, p99: 40 - 8 - 6 });
    expect(own?.mean).toBeCloseTo(22 - 4.4 - 4, 9);
  });

  it('falls back to the configured calls per request, floors and keeps the quantiles in order', () => {
    const own = ownServiceTime(
      step({
        latency: lat(3, 3.5, 9, 3),
        callees: [callee({ callsPerRequest: null, perRequest: 2, latency: lat(1, 2, 2, 1) })],
      }),
    );
    expect(own).toEqual({ p50: 1, p95: 1, p99: 5, mean: 1 });
    const floored = ownServiceTime(step({ latency: lat(1, 1, 1, 1), callees: [callee({})] }));
    expect(floored?.p50).toBe(MIN_SERVICE_MS);
    expect(ownServiceTime(step({ latency: null }))).toBeNull();
  });
});

describe('fitLognormal', () => {
  it('takes sigma from p95/p50 and keeps the mean', () => {
    const fit = fitLognormal(lat(4, 8, 10, 5));
    if (fit.kind !== 'lognormal') throw new Error(fit.kind);
    expect(fit.sigma).toBeCloseTo(Math.log(2) / 1.6448536, 6);
    expect(fit.medianMs * Math.exp((fit.sigma * fit.sigma) / 2)).toBeCloseTo(5, 9);
  });

  it('stays a proper distribution for a flat one', () => {
    const fit = fitLognormal(lat(2, 2, 2, 2));
    expect(fit).toMatchObject({ kind: 'lognormal', sigma: 0.01 });
  });
});

describe('estimateProfile', () => {
  const base: RevisionMeasurement = {
    service: 'cart',
    revision: 'v3',
    hopMs: 0.5,
    idleCpuCores: 0.01,
    rssBeforeBytes: 90 * 1024 * 1024,
    processes: 2,
    steps: [
      step({ rate: 40, requests: 80, errors: 0, latency: lat(7, 9, 11, 7.5), cpuSeconds: 0.5 }),
      step({ rate: 20, requests: 40, errors: 2, latency: lat(6, 8, 10, 6.5), cpuSeconds: 0.3 }),
      step({ rate: 80, requests: 160, errors: 0, latency: lat(9, 14, 20, 10), cpuSeconds: 1.0 }),
    ],
  };

  it('takes the least own time, the error rate over every step, CPU net of idle per request', () => {
    const profile = estimateProfile(base)?.profile;
    expect(profile).toMatchObject({
      service: 'cart',
      revision: 'v3',
      serviceTimeMs: lat(5.5, 7.5, 9.5, 6),
      errorProbability: 2 / 280,
      requests: 280,
      memoryGrowthMbPer1k: 0,
      source: 'sandbox',
    });
    // (0.5 + 0.3 + 1.0 − 3 × 2 s × 0.01 cores) / 280 requests.
    expect(profile?.cpuMsPerRequest).toBeCloseTo(((1.8 - 0.06) * 1000) / 280, 9);
  });

  it('reports memory growth above the noise floor as MiB per 1,000 requests', () => {
    const mib = 1024 * 1024;
    const leaking = estimateProfile({
      ...base,
      steps: [
        step({ requests: 500, rssBytes: 100 * mib }),
        step({ requests: 500, rssBytes: 130 * mib }),
        step({ requests: 500, rssBytes: 160 * mib }),
      ],
    });
    expect(leaking?.profile.memoryGrowthMbPer1k).toBeCloseTo(60, 6);
    // 2 MiB over 1,500 requests of two processes: heap sizing, not a leak.
    const flat = estimateProfile({
      ...base,
      steps: [
        step({ requests: 500, rssBytes: 100 * mib }),
        step({ requests: 500, rssBytes: 101 * mib }),
        step({ requests: 500, rssBytes: 102 * mib }),
      ],
    });
    expect(flat?.profile.memoryGrowthMbPer1k).toBe(0);
  });

  it('gives no profile without a served request, and says when CPU is unknown', () => {
    expect(estimateProfile({ ...base, steps: [step({ requests: 0, latency: null })] })).toBeNull();
    const blind = estimateProfile({ ...base, steps: [step({ cpuSeconds: null })] });
    expect(blind?.profile.cpuMsPerRequest).toBe(0);
    expect(blind?.notes[0]).toMatch(/CPU could not be read/);
  });

  it('fits a line', () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2, 12);
    expect(slope([[1, 1]])).toBeNull();
    expect(
      slope([
        [1, 1],
        [1, 2],
      ]),
    ).toBeNull();
  });
});
