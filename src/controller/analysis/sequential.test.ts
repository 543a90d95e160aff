import { describe, expect, it } from 'vitest';
import type { ApplicationConfig, ReleaseConfig } from '../../config/types.js';
import { SeededRandom } from '../../core/random.js';
import type { Random } from '../../core/random.js';
import type { LimitTestState } from '../../stats/bernoulli.js';
import { sampleBinomial, sampleNormal } from '../../stats/simulate.js';
import { weightApplied, promotionApplied } from '../core/commands.js';
import type { LogLatencyMoments, Observation, RevisionWindow } from '../core/observation.js';
import type { Step } from '../core/release.js';
import { createRelease, releasePhase } from '../core/release.js';
import { tick } from '../core/tick.js';
import type { ReleasePhase, ReleaseState } from '../core/types.js';
import { sequentialAnalysis } from './sequential.js';

const app = {
  name: 'shop',
  services: {
    cart: {
      name: 'cart',
      stable: 'v1',
      resources: { replicas: 1 },
      limits: { errorRate: 0.01, latencyP99Ms: 250 },
    },
  },
} as unknown as ApplicationConfig;

const release: ReleaseConfig = {
  name: 'r',
  application: 'shop',
  changes: [{ service: 'cart', revision: 'v2' }],
  tiers: [1, 5, 25, 50, 100],
  bake: { minDurationMs: 30_000, minRequests: 50 },
  monitoring: { intervalMs: 10_000, warningIntervalMs: 1_000 },
  risk: { low: 0.1, high: 0.5 },
  alpha: 0.01,
  mitigations: [],
  source: 'r.yaml',
};

/** A revision's window: `requests` served, no errors or slow ones, p99 90 ms, no CPU figure. */
function served(requests: number, more: Partial<RevisionWindow> = {}): RevisionWindow {
  return { requests, errors: 0, slow: 0, latencyP99Ms: 90, cpuCores: null, cpuCapacity: null, ...more };
}

/** A window of cart without crash loop, risk or prediction, unless given. */
function cartWindow(
  o: Pick<Observation, 'from' | 'to' | 'weight' | 'canary' | 'stable'> & Partial<Observation>,
): Observation {
  return { service: 'cart', crashLoop: false, risk: null, predicted: null, ...o };
}

function fail(): never {
  throw new Error('missing window');
}

function settle(step: Step, now: number): ReleaseState {
  let state = step.state;
  for (const a of step.actions) {
    if (a.type === 'set-weight') state = weightApplied(state, a.service, a.weight, now).state;
    if (a.type === 'make-stable') state = promotionApplied(state, a.service, now).state;
  }
  return state;
}

/**
 * Log-latency moments of n requests with log-latency N(mu, sigma²), drawn from their sampling
 * distribution (sum normal, sample variance a scaled χ² by Wilson–Hilferty) instead of n draws.
 */
function moments(random: Random, n: number, mu: number, sigma: number): LogLatencyMoments {
  if (n === 0) return { n: 0, sum: 0, sumSq: 0 };
  const sum = n * mu + Math.sqrt(n) * sigma * sampleNormal(random);
  const k = n - 1;
  const chi = k === 0 ? 0 : k * (1 - 2 / (9 * k) + sampleNormal(random) * Math.sqrt(2 / (9 * k))) ** 3;
  return { n, sum, sumSq: sigma * sigma * Math.max(0, chi) + (sum * sum) / n };
}

/**
 * One simulated rollout at `rps` requests/s: canary and stable error and slow rates as given, and
 * (with `latency`) log-latency moments of the canary slowed by `latency.ratio`.
 */
function simulate(
  random: Random,
  canary: { errors: number; slow: number },
  rps = 100,
  latency?: { ratio: number; sigma: number },
  spec: ReleaseConfig = release,
): { phase: ReleasePhase; tier: number; state: ReleaseState } {
  const analysis = sequentialAnalysis(app, spec);
  let now = 0;
  let state = settle(createRelease(spec, app, analysis, now), now);
  for (let i = 0; i < 2_000 && releasePhase(state) === 'running'; i++) {
    const from = now;
    now += 10_000;
    const weight = state.tracks[0]?.appliedWeight ?? 0;
    const total = rps * 10;
    const canaryRequests = sampleBinomial(random, total, weight / 10_000);
    const stableRequests = total - canaryRequests;
    const window = (requests: number, rates: { errors: number; slow: number }, ratio: number) => ({
      requests,
      errors: sampleBinomial(random, requests, rates.errors),
      slow: sampleBinomial(random, requests, rates.slow),
      latencyP99Ms: 100,
      cpuCores: null,
      cpuCapacity: null,
      ...(latency === undefined
        ? {}
        : { logLatency: moments(random, requests, Math.log(40 * ratio), latency.sigma) }),
    });
    const o: Observation = {
      service: 'cart',
      from,
      to: now,
      weight,
      canary: window(canaryRequests, canary, latency?.ratio ?? 1),
      stable: window(stableRequests, { errors: 0.005, slow: 0.002 }, 1),
      crashLoop: false,
      risk: null,
      predicted: null,
    };
    state = settle(tick(state, [o], analysis, now), now);
  }
  const track = state.tracks[0];
  return { phase: releasePhase(state), tier: track?.tiers[track.tierIndex]?.share ?? 0, state };
}

/** Whether the latency comparison rejected "no slower" (its e-process state says so). */
function latencyRegressed(state: ReleaseState): boolean {
  const tests = state.tracks[0]?.analysis as { latencyRegression?: { worseAfter: number | null } | null };
  return (tests.latencyRegression?.worseAfter ?? null) !== null;
}

describe('sequential analysis through the decision core', () => {
  it('A/A: healthy canaries are rolled back no more often than alpha', () => {
    const random = new SeededRandom(7);
    const runs = 1_000;
    let rolledBack = 0;
    let promoted = 0;
    for (let i = 0; i < runs; i++) {
      const { phase } = simulate(random, { errors: 0.005, slow: 0.002 });
      if (phase === 'rolled-back') rolledBack++;
      if (phase === 'promoted') promoted++;
    }
    const slack = 3 * Math.sqrt((release.alpha * (1 - release.alpha)) / runs);
    expect(rolledBack / runs).toBeLessThanOrEqual(release.alpha + slack);
    expect(promoted / runs).toBeGreaterThan(0.95);
  }, 60_000);

  it('rolls back a canary with 5% errors (10× the stable) by the 25% tier, nearly always', () => {
    const random = new SeededRandom(11);
    const results = Array.from({ length: 200 }, () => simulate(random, { errors: 0.05, slow: 0.002 }));
    const caught = results.filter((r) => r.phase === 'rolled-back');
    expect(caught.length / results.length).toBeGreaterThan(0.97);
    expect(caught.filter((r) => r.tier <= 25).length / caught.length).toBeGreaterThan(0.9);
  }, 60_000);

  it('A/A with log-latency moments (heavy spread): no more false rollbacks than alpha', () => {
    const random = new SeededRandom(17);
    const runs = 1_000;
    let rolledBack = 0;
    let promoted = 0;
    for (let i = 0; i < runs; i++) {
      const { phase } = simulate(random, { errors: 0.005, slow: 0.002 }, 100, { ratio: 1, sigma: 1.2 });
      if (phase === 'rolled-back') rolledBack++;
      if (phase === 'promoted') promoted++;
    }
    const slack = 3 * Math.sqrt((release.alpha * (1 - release.alpha)) / runs);
    expect(rolledBack / runs).toBeLessThanOrEqual(release.alpha + slack);
    expect(promoted / runs).toBeGreaterThan(0.95);
  }, 60_000);

  it('rolls back a canary 25% slower than the stable on the log scale, early in the rollout', () => {
    const random = new SeededRandom(19);
    const results = Array.from({ length: 100 }, () =>
      simulate(random, { errors: 0.005, slow: 0.002 }, 100, { ratio: 1.25, sigma: 0.5 }),
    );
    const caught = results.filter((r) => r.phase === 'rolled-back');
    expect(caught.length).toBeGreaterThan(95);
    expect(caught.filter((r) => r.tier <= 5).length / caught.length).toBeGreaterThan(0.9);
    // All by the latency comparison, but for the odd false alarm of another test (α allows it).
    expect(caught.filter((r) => latencyRegressed(r.state)).length).toBeGreaterThanOrEqual(caught.length - 2);
  }, 60_000);

  it('tolerates the declared slowdown and still catches one beyond it', () => {
    const random = new SeededRandom(23);
    const tolerant = { ...release, tolerance: { latencyIncrease: 2 } };
    const healthy = { errors: 0.005, slow: 0.002 };
    // 2.4× the stable: a regression by default, accepted with "up to 3×".
    const within = Array.from({ length: 100 }, () =>
      simulate(random, healthy, 100, { ratio: 2.4, sigma: 0.5 }, tolerant),
    );
    expect(within.filter((r) => latencyRegressed(r.state)).length).toBeLessThanOrEqual(2);
    expect(within.filter((r) => r.phase === 'promoted').length).toBeGreaterThan(95);
    const strict = Array.from({ length: 20 }, () =>
      simulate(random, healthy, 100, { ratio: 2.4, sigma: 0.5 }),
    );
    expect(strict.every((r) => r.phase === 'rolled-back' && latencyRegressed(r.state))).toBe(true);
    // 4× the stable: beyond what the release accepts.
    const beyond = Array.from({ length: 50 }, () =>
      simulate(random, healthy, 100, { ratio: 4, sigma: 0.5 }, tolerant),
    );
    expect(
      beyond.filter((r) => r.phase === 'rolled-back' && latencyRegressed(r.state)).length,
    ).toBeGreaterThan(47);
  }, 60_000);

  it('compares latency on the log scale when the metrics have moments, else on the split', () => {
    const analysis = sequentialAnalysis(app, release);
    const base = cartWindow({
      from: 0,
      to: 10_000,
      weight: 500,
      canary: served(50),
      stable: served(950, { errors: 5, slow: 2 }),
    });
    const kind = (state: unknown): unknown =>
      (state as { latencyRegression: { kind: string } | null }).latencyRegression?.kind ?? null;
    // Neither: no comparison yet (and the canary's first 20 requests warm it up).
    const none = analysis.update(analysis.initial('cart'), base);
    expect(kind(none.state)).toBeNull();
    // A split only (a provider without moments): the 2×2-table test.
    const split = { thresholdMs: 40, marginMs: 1, canaryAbove: 25, stableAbove: 470 };
    expect(
      kind(analysis.update(analysis.initial('cart'), { ...base, latencySplit: split }).state),
    ).toBeNull();
    const viaSplit = analysis.update(none.state, { ...base, latencySplit: split });
    expect(kind(viaSplit.state)).toBe('proportions');
    // Moments: the log-scale test, seeded by the stable's previous window; it stays chosen even
    // when a later window lacks moments (that window is skipped).
    const random = new SeededRandom(3);
    const withMoments: Observation = {
      ...base,
      latencySplit: split,
      canary: { ...(base.canary ?? fail()), logLatency: moments(random, 50, Math.log(40), 0.5) },
      stable: {
        ...(base.stable ?? fail()),
        logLatency: moments(random, 950, Math.log(40), 0.5),
        logLatencyBefore: moments(random, 1000, Math.log(40), 0.5),
      },
    };
    const first = analysis.update(none.state, withMoments);
    expect(kind(first.state)).toBe('log-shift');
    expect((first.state as { latencyRegression: { batches: number } }).latencyRegression.batches).toBe(1);
    const next = analysis.update(first.state, { ...base, latencySplit: split });
    expect(next.state).toMatchObject({
      latencyRegression: (first.state as { latencyRegression: unknown }).latencyRegression,
    });
  });

  it("does not hold a fresh canary's first requests (JIT, cold caches) against it in the latency comparison", () => {
    const analysis = sequentialAnalysis(app, release);
    const random = new SeededRandom(5);
    const at = (ratio: number, from: number, state: unknown) =>
      analysis.update(state, {
        service: 'cart',
        from,
        to: from + 1_000,
        weight: 1_000,
        canary: {
          requests: 10,
          errors: 0,
          slow: 0,
          latencyP99Ms: 90,
          cpuCores: null,
          cpuCapacity: null,
          logLatency: moments(random, 10, Math.log(40 * ratio), 0.5),
        },
        stable: {
          requests: 90,
          errors: 0,
          slow: 0,
          latencyP99Ms: 90,
          cpuCores: null,
          cpuCapacity: null,
          logLatency: moments(random, 90, Math.log(40), 0.5),
          logLatencyBefore: moments(random, 90, Math.log(40), 0.5),
        },
        crashLoop: false,
        risk: null,
        predicted: null,
      });
    // The first 20 requests three times slower, then as fast as the stable: no regression.
    let state = at(3, 1_000, at(3, 0, analysis.initial('cart')).state).state;
    for (let i = 1; i < 20; i++) {
      const result = at(1, i * 1_000, state);
      expect(result.breaches).toEqual([]);
      state = result.state;
    }
    // Three times slower throughout: caught within a few windows of the comparison's start.
    let slow = at(3, 1_000, at(3, 0, analysis.initial('cart')).state);
    expect(slow.breaches).toEqual([]);
    let window = 2;
    while (window < 5 && slow.breaches.length === 0) slow = at(3, window++ * 1_000, slow.state);
    expect(slow.breaches.map((b) => b.test)).toEqual(['latency-regression']);
  });

  it('compares a fresh canary with its predicted range (YELLOW) only once it is warm', () => {
    const analysis = sequentialAnalysis(app, release);
    const window = (from: number, requests: number, above: number): Observation =>
      cartWindow({
        from,
        to: from + 1_000,
        weight: 1_000,
        canary: served(requests),
        stable: served(90),
        predicted: { latencyHighMs: 60, nominalTail: 0.01, above },
      });
    // Its first 20 requests all slower than the predicted edge: not a deviation, it is warming up.
    const cold = analysis.update(analysis.initial('cart'), window(0, 20, 20));
    expect(cold.deviations).toEqual([]);
    // Warm, and still every request above the edge: YELLOW.
    const warm = analysis.update(cold.state, window(1_000, 20, 20));
    expect(warm.deviations.map((d) => d.test)).toEqual(['predicted-range']);
  });

  it("judges a range of the window's p99 by windows: a missed window now and then is no deviation", () => {
    const analysis = sequentialAnalysis(app, release);
    const window = (i: number, p99: number, above: number): Observation =>
      cartWindow({
        from: i * 1_000,
        to: (i + 1) * 1_000,
        weight: 5_000,
        canary: served(25, { latencyP99Ms: p99 }),
        stable: served(25, { latencyP99Ms: 10 }),
        predicted: { latencyHighMs: 15, nominalTail: 0.05, per: 'window', above },
      });
    const firstYellow = (p99At: (i: number) => number, above: number): number | null => {
      let state = analysis.initial('cart');
      for (let i = 0; i < 200; i++) {
        const result = analysis.update(state, window(i, p99At(i), p99At(i) > 15 ? above : 0));
        if (result.deviations.length > 0) return i;
        state = result.state;
      }
      return null;
    };
    // One window in ten past the edge, with 3 of its 25 requests past it: 1.2% of all requests, more
    // than the 1% a request-level edge would allow, but 10% of windows is no evidence against 5%
    // within 200 windows at this level.
    expect(firstYellow((i) => (i % 10 === 9 ? 20 : 12), 3)).toBeNull();
    // Every window past it: YELLOW within a few windows of warming up.
    const yellow = firstYellow(() => 20, 25);
    expect(yellow).not.toBeNull();
    expect(yellow).toBeLessThanOrEqual(6);
    let state = analysis.initial('cart');
    let last = analysis.update(state, window(0, 20, 25));
    for (let i = 1; i <= 6; i++) {
      state = last.state;
      last = analysis.update(state, window(i, 20, 25));
    }
    expect(last.deviations[0]?.message).toMatch(
      /^\d+ of \d+ canary windows with a p99 above the predicted 15\.0 ms/,
    );
  });

  it('says which rollback test is nearest its threshold, and how far it has come', () => {
    const analysis = sequentialAnalysis(app, release);
    const at = (canaryErrors: number, from: number, state: unknown) =>
      analysis.update(state, {
        service: 'cart',
        from,
        to: from + 10_000,
        weight: 2_500,
        canary: {
          requests: 250,
          errors: canaryErrors,
          slow: 0,
          latencyP99Ms: 90,
          cpuCores: null,
          cpuCapacity: null,
        },
        stable: { requests: 750, errors: 4, slow: 0, latencyP99Ms: 90, cpuCores: null, cpuCapacity: null },
        crashLoop: false,
        risk: null,
        predicted: null,
      });
    // Equal error rates: no test is on its way.
    const equal = at(1, 0, analysis.initial('cart'));
    expect(equal.closest?.share ?? 0).toBeLessThan(0.3);
    // A canary failing 4% of requests against the stable's 0.5%: the error tests close in, window
    // by window, and cross together (share ≥ 1) when the breach is declared.
    let state: unknown = analysis.initial('cart');
    const shares: number[] = [];
    let result = at(10, 0, state);
    for (let i = 0; i < 6 && result.breaches.length === 0; i++) {
      result = at(10, i * 10_000, state);
      state = result.state;
      shares.push(result.closest?.share ?? 0);
      expect(result.closest?.test).toMatch(/^error-/);
    }
    expect(shares.length).toBeGreaterThan(1);
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThan(shares[i - 1] ?? 0);
    expect(result.breaches.length).toBeGreaterThan(0);
    expect(shares.at(-1)).toBeGreaterThanOrEqual(1);
  });

  it('is never within limits on a canary that served nothing, and counts a CPU figure that is no number for nothing', () => {
    const bare = (limits: object) =>
      ({ ...app, services: { cart: { ...app.services.cart, limits } } }) as unknown as ApplicationConfig;
    const observe = (requests: number, cpuCores: number | null): Observation => ({
      service: 'cart',
      from: 0,
      to: 10_000,
      weight: 100,
      canary: { requests, errors: 0, slow: 0, latencyP99Ms: 5, cpuCores, cpuCapacity: 0.5 },
      stable: { requests: 1000, errors: 0, slow: 0, latencyP99Ms: 5, cpuCores: 0.1, cpuCapacity: 0.5 },
      crashLoop: false,
      risk: null,
      predicted: null,
    });
    // No limit, so no limit test: a canary is within its limits only once it has served a request.
    const none = sequentialAnalysis(bare({}), release);
    const idle = none.update(none.initial('cart'), observe(0, 0.01));
    expect(idle.withinLimits).toBe(false);
    expect(none.update(idle.state, observe(1, 0.01)).withinLimits).toBe(true);
    // A CPU figure that is not a number is neither a hot window nor a cool one.
    const cpu = sequentialAnalysis(bare({ cpu: 0.8 }), release);
    const state = cpu.update(cpu.initial('cart'), observe(100, Number.NaN)).state as {
      cpu: { trials: number };
    };
    expect(state.cpu.trials).toBe(0);
  });

  it("holds a canary with 1.5× the stable's errors, within its limits, until the comparison catches it", () => {
    // 0.75% against 0.5%: under the 1% limit, so only the comparison with the stable can tell.
    const random = new SeededRandom(17);
    const results = Array.from({ length: 100 }, () => simulate(random, { errors: 0.0075, slow: 0.002 }));
    // Promoted on its limits alone, about half would be (bench:detect: 54%).
    expect(results.filter((r) => r.phase === 'promoted').length).toBeLessThanOrEqual(15);
    expect(results.filter((r) => r.phase === 'rolled-back').length).toBeGreaterThanOrEqual(80);
  }, 60_000);

  it("clears a canary's errors by the comparison, or by a rate shown under three quarters of the limit", () => {
    const observe = (canaryErrors: number, stableErrors: number): Observation =>
      cartWindow({
        from: 0,
        to: 10_000,
        weight: 5_000,
        canary: served(500, { errors: canaryErrors, latencyP99Ms: 5 }),
        stable: served(500, { errors: stableErrors, latencyP99Ms: 5 }),
      });
    const windowsUntilClear = (
      a: ReturnType<typeof sequentialAnalysis>,
      canaryErrors: number,
      stableErrors: number,
    ) => {
      let state = a.initial('cart');
      for (let i = 1; i <= 200; i++) {
        const result = a.update(state, observe(canaryErrors, stableErrors));
        if (result.errorsNotWorse === true) return i;
        state = result.state;
      }
      return null;
    };
    const analysis = sequentialAnalysis(app, release);
    // No errors on either side: nothing to compare, so the rate must be shown under 0.75%.
    const clean = windowsUntilClear(analysis, 0, 0);
    expect(clean).not.toBeNull();
    expect(clean).toBeGreaterThan(1);
    expect(clean).toBeLessThanOrEqual(6);
    // 1% on both sides: at the limit, so only the comparison clears it.
    const equal = windowsUntilClear(analysis, 5, 5);
    expect(equal).not.toBeNull();
    expect(equal).toBeGreaterThan(clean ?? 0);
    // 1.5× the stable's: never within these 200 windows.
    expect(windowsUntilClear(analysis, 6, 4)).toBeNull();
    // Without an error limit there is no rate to clear against: nothing is asked of the errors.
    const noLimit = {
      ...app,
      services: { cart: { ...app.services.cart, limits: { latencyP99Ms: 250 } } },
    } as unknown as ApplicationConfig;
    expect(windowsUntilClear(sequentialAnalysis(noLimit, release), 6, 4)).toBe(1);
  });

  it("takes promotion evidence at the service's share of α, rollback evidence at one test's", () => {
    const clean = cartWindow({
      from: 0,
      to: 10_000,
      weight: 5_000,
      canary: served(50, { latencyP99Ms: 5 }),
      stable: served(50, { latencyP99Ms: 5 }),
    });
    const requestsUntilWithin = (a: ReturnType<typeof sequentialAnalysis>): number => {
      let state = a.initial('cart');
      for (let i = 1; i <= 400; i++) {
        const result = a.update(state, clean);
        if (result.withinLimits) return i * 50;
        state = result.state;
      }
      return Number.POSITIVE_INFINITY;
    };
    // An error-free canary, limit 1%: ≈ ln(1/α) / 0.01 requests (a few more for the mixture).
    const alone = requestsUntilWithin(sequentialAnalysis(app, release));
    const twoServices = { ...app, services: { ...app.services, pay: { ...app.services.cart, name: 'pay' } } };
    const pair = sequentialAnalysis(twoServices as unknown as ApplicationConfig, {
      ...release,
      changes: [...release.changes, { service: 'pay', revision: 'v2' }],
    });
    const shared = requestsUntilWithin(pair);
    expect(alone).toBeGreaterThanOrEqual(500);
    expect(alone).toBeLessThanOrEqual(700); // at α 0.01; one test's share (0.0025) needs ≈ 790
    expect(shared - alone).toBeGreaterThanOrEqual(50); // at α 0.005: ln 2 nats more
    expect(shared - alone).toBeLessThanOrEqual(100);
    // The breach side keeps its share: the test's own level, with nothing to show.
    const state = sequentialAnalysis(app, release).initial('cart') as { errors: LimitTestState | null };
    expect(state.errors?.alpha).toBeCloseTo(0.01 / 4, 12);
    expect(state.errors?.promotionAlpha).toBe(0.01);
  });

  it('rolls back a canary whose p99 breaches the latency limit', () => {
    const random = new SeededRandom(13);
    const results = Array.from({ length: 100 }, () => simulate(random, { errors: 0.005, slow: 0.05 }));
    expect(results.filter((r) => r.phase === 'rolled-back').length).toBeGreaterThan(95);
  }, 60_000);
});
