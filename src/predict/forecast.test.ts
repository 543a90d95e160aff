import { describe, expect, it } from 'vitest';
import { CalibratedRanges } from '../calibration/model-set.js';
import { syntheticRows } from '../calibration/test-rows.js';
import { loadConfiguration } from '../config/index.js';
import type { ApplicationConfig } from '../config/types.js';
import type { ServiceProfile } from '../sim/profile.js';
import { fixedCanaryProvider } from '../testing/fixed-metrics.js';
import { ObservedForecaster } from './forecast.js';

async function shop(): Promise<ApplicationConfig> {
  const loaded = await loadConfiguration(['examples/shop/augur.yaml']);
  if (!loaded.ok) throw new Error('shop config invalid');
  return loaded.value.application;
}

/** Two replicas idling at 0.002 cores each, as measured for an idle shop process here. */
const provider = (rate: number, share: number, cpuMs: number, p50 = 4, p95 = 9) =>
  fixedCanaryProvider({ rate, share, cpuMs, idleCores: 0.004, p50, p95 });

const request = (app: ApplicationConfig, canary: string, tierIndex: number, seconds: number) => ({
  service: app.services['cart']!,
  stable: 'v1',
  canary,
  tiers: [5, 25, 50, 100],
  tierIndex,
  from: 1_000_000,
  to: 1_000_000 + seconds * 1000,
});

describe('ObservedForecaster', () => {
  it('predicts cart v3 (6.7 ms of CPU per request) saturating at 100% from what it shows at 25%', async () => {
    const app = await shop();
    const forecaster = new ObservedForecaster(app, provider(50, 0.25, 6.7));
    const forecast = await forecaster.forecast(request(app, 'v3', 1, 10));
    expect(forecast).not.toBeNull();
    expect(forecast!.risk).toBeGreaterThan(0.5);
    expect(forecast!.breachTier).toBe(100);
    expect(forecast!.detail).toMatch(/cart v3 used \d+\.\d–\d+\.\d ms of CPU per request at the 25% tier/);
    expect(forecast!.detail).toMatch(/CPU saturates/);
    // At 5% (2.5 requests a second) 16 s of it are about 20 clock ticks of CPU: ±40%, too little to say.
    const small = await new ObservedForecaster(app, provider(50, 0.05, 6.7)).forecast(
      request(app, 'v3', 0, 16),
    );
    expect(small?.detail ?? '').not.toMatch(/CPU per request/);
  });

  it('sees no breach ahead for cart v2 (1.7 ms) once its tier is informative', async () => {
    const app = await shop();
    const forecast = await new ObservedForecaster(app, provider(50, 0.5, 1.7)).forecast(
      request(app, 'v2', 2, 30),
    );
    expect(forecast).not.toBeNull();
    expect(forecast!.risk).toBe(0);
  });

  it('is not thrown by a burst of CPU (a collection, a JIT warming up) in a few seconds of a small tier', async () => {
    const app = await shop();
    const steady = provider(50, 0.5, 1.7);
    // 0.15 cores for one second: 150 ms, a tenth of what the tier's 30 s use, if it were averaged in.
    const bursty = {
      ...steady,
      series: async (q: Parameters<typeof steady.series>[0]) =>
        (await steady.series(q)).map((w, i) => (i === 0 ? { ...w, cpuCores: 0.15 } : w)),
    };
    const forecast = await new ObservedForecaster(app, bursty).forecast(request(app, 'v2', 2, 30));
    expect(forecast).not.toBeNull();
    expect(forecast?.risk ?? 0).toBeLessThanOrEqual(0.1);
    const tooSoon = await new ObservedForecaster(app, steady).forecast(request(app, 'v2', 0, 4));
    expect(tooSoon?.detail ?? '').not.toMatch(/CPU per request/);
  });

  it('reads CPU and requests over the same seconds when a long tier began before the one-second ring', async () => {
    const app = await shop();
    const steady = provider(50, 0.5, 1.7);
    // The first 20 minutes come back as stored minutes, the last 10 s as one-second windows.
    const ringStart = 1_000_000 + 1_200_000;
    const longTier = {
      ...steady,
      series: async (q: Parameters<typeof steady.series>[0]) => {
        const minutes = [];
        for (let from = q.from; from < ringStart; from += 60_000)
          minutes.push(await steady.aggregate({ ...q, from, to: from + 60_000 }));
        return [...minutes, ...(await steady.series({ ...q, from: ringStart }))];
      },
    };
    const request30 = { ...request(app, 'v2', 2, 0), to: ringStart + 30_000 };
    const forecast = await new ObservedForecaster(app, longTier).forecast(request30);
    expect(forecast).not.toBeNull();
    expect(forecast!.risk).toBe(0);
    expect(forecast!.detail).toMatch(/used 1\.\d–2\.\d ms of CPU per request at the 50% tier/);
  });

  it('adopts a sandbox measurement the canary confirms, and ignores one it contradicts', async () => {
    const app = await shop();
    const sandbox = (revision: string, cpuMs: number): ServiceProfile => ({
      service: 'cart',
      revision,
      serviceTime: { kind: 'lognormal', medianMs: cpuMs, sigma: 0.3 },
      serviceTimeMs: { p50: cpuMs, p95: cpuMs * 1.6, p99: cpuMs * 2, mean: cpuMs * 1.05 },
      errorProbability: 0,
      cpuMsPerRequest: cpuMs,
      memoryGrowthMbPer1k: 0,
      requests: 200,
      source: 'sandbox',
    });
    // At 2.5 requests/s the idle allowance and the ticks' noise make the canary's own range too wide
    // to speak…
    const noisy = fixedCanaryProvider({ rate: 50, share: 0.05, cpuMs: 6.7 });
    const alone = new ObservedForecaster(app, noisy);
    expect((await alone.forecast(request(app, 'v3', 0, 40)))?.detail ?? '').not.toMatch(/CPU/);
    // …but it confirms the sandbox's 6.5 ms, which then decides: saturation at 100%.
    const informed = new ObservedForecaster(app, noisy);
    informed.remember([sandbox('v3', 6.5)]);
    const forecast = await informed.forecast(request(app, 'v3', 0, 40));
    expect(forecast?.risk).toBeGreaterThan(0.5);
    expect(forecast?.breachTier).toBe(100);
    expect(forecast?.detail).toMatch(
      /costs 6\.5 ms of CPU per request \(measured before the rollout, confirmed/,
    );
    // Within the limit at nominal load but not at peak: the breach is still placed at its tier.
    const nearLimit = new ObservedForecaster(app, fixedCanaryProvider({ rate: 50, share: 0.05, cpuMs: 4 }));
    nearLimit.remember([sandbox('v3', 4)]);
    const peakOnly = await nearLimit.forecast(request(app, 'v3', 0, 20));
    expect(peakOnly?.risk).toBeGreaterThan(0);
    expect(peakOnly?.risk).toBeLessThan(0.5);
    expect(peakOnly?.breachTier).toBe(100);
    expect(peakOnly?.detail).toMatch(/at peak × 1\.2 \(limit 85%\)/);
    // A sandbox figure the canary contradicts (8.9 ms where it shows ~2 ms) is not used.
    const contradicted = new ObservedForecaster(app, provider(50, 0.5, 1.7));
    contradicted.remember([sandbox('v2', 8.9)]);
    const healthy = await contradicted.forecast(request(app, 'v2', 2, 30));
    expect(healthy?.risk).toBe(0);
    expect(healthy?.detail).not.toMatch(/measured before/);
  });

  it('says nothing while the idle allowance dominates (a healthy canary at a tiny tier) or too few requests', async () => {
    const app = await shop();
    const tiny = await new ObservedForecaster(app, provider(50, 0.01, 1.7)).forecast(
      request(app, 'v2', 0, 80),
    );
    expect(tiny).toBeNull();
    const few = await new ObservedForecaster(app, provider(50, 0.05, 6.7)).forecast(request(app, 'v3', 0, 3));
    expect(few).toBeNull();
  });

  it('predicts queueing when the canary holds its slots too long for the later tiers', async () => {
    const app = await shop();
    // 2 replicas × 16 slots; at 100% of 50 req/s a 900 ms hold needs 45 slots: queues without bound.
    const slow = await new ObservedForecaster(app, provider(50, 0.05, 0.5, 900, 1000)).forecast(
      request(app, 'v3', 0, 20),
    );
    expect(slow?.risk).toBeGreaterThan(0.5);
    expect(slow?.detail).toMatch(/slots queue/);
  });

  it("judges a later tier's p99 by its calibrated range when the model has a basis for one", async () => {
    const app = await shop();
    // p99 of the station ≈ 200 ms at every later tier: under cart's 250 ms limit by itself.
    const canary = (): ReturnType<typeof provider> => provider(50, 0.05, 0.5, 100, 160);
    const plain = await new ObservedForecaster(app, canary()).forecast(request(app, 'v3', 0, 20));
    expect(plain?.risk ?? 0).toBe(0);
    // With no past errors to go by, the widened cold-start range decides nothing either.
    const cold = new CalibratedRanges(null);
    const widened = await new ObservedForecaster(app, canary(), { calibration: () => cold }).forecast(
      request(app, 'v3', 0, 20),
    );
    expect(widened?.risk ?? 0).toBe(0);
    // Past windows show the simulation's p99 off by up to ~±40%: part of the range is over the limit.
    const learnedFrom = new CalibratedRanges(null);
    learnedFrom.remember(syntheticRows(500, 21));
    const calibrated = await new ObservedForecaster(app, canary(), {
      calibration: () => learnedFrom,
    }).forecast(request(app, 'v3', 0, 20));
    expect(calibrated?.risk).toBeGreaterThan(0.1);
    expect(calibrated?.risk).toBeLessThan(1);
    expect(calibrated?.detail).toMatch(/\d+–\d+ ms \(90% range\) through the model/);
    // Past errors so large (start-up windows, say) that the range spans more than ×10: it says
    // nothing about a breach, and the run is judged by its simulated p99, as without a model.
    const wild = new CalibratedRanges(null);
    wild.remember(syntheticRows(60, 22, { noise: 12 }));
    const unsure = await new ObservedForecaster(app, canary(), { calibration: () => wild }).forecast(
      request(app, 'v3', 0, 20),
    );
    expect(unsure?.risk ?? 0).toBe(0);
  });
});
