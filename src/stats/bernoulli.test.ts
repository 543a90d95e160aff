import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import {
  countAbove,
  decideLimitTest,
  initialLimitTest,
  limitBounds,
  limitEvidence,
  shownBelow,
  updateLimitTest,
} from './bernoulli.js';
import { restoreTestState } from './persist.js';
import { median, sampleBinomial } from './simulate.js';
import { klBernoulli, sprtExpectedSamples } from './sprt.js';

interface LimitCase {
  name: string;
  limit: number;
  alpha: number;
  breach: { ratios: number[]; weights: number[] };
  within: { ratios: number[]; weights: number[] };
  batches: { trials: number; events: number }[];
  steps: {
    logEBreach: number;
    logEWithin: number;
    breachedAfter: number | null;
    lower: number;
    upper: number;
  }[];
}

const cases = (
  JSON.parse(readFileSync(new URL('../../test/fixtures/stats/reference.json', import.meta.url), 'utf8')) as {
    limit: LimitCase[];
  }
).limit;

const near = (actual: number, expected: number, rel: number): void =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));

describe('limit test against e-values computed in Python from binomial likelihoods', () => {
  for (const c of cases) {
    it(c.name, () => {
      let state = initialLimitTest({ limit: c.limit, alpha: c.alpha });
      state.breach.ratios.forEach((r, j) => near(r, c.breach.ratios[j] ?? Number.NaN, 1e-12));
      state.within.weights.forEach((w, j) => near(w, c.within.weights[j] ?? Number.NaN, 1e-12));
      c.batches.forEach((batch, i) => {
        state = updateLimitTest(state, batch);
        const step = c.steps[i];
        if (step === undefined) throw new Error('fixture is short');
        const verdict = decideLimitTest(state);
        near(verdict.logEBreach, step.logEBreach, 1e-10);
        near(verdict.logEWithin, step.logEWithin, 1e-10);
        expect(verdict.breachedAfter).toBe(step.breachedAfter);
        // The bounds are bisections: a relative 1e-9 is far below anything a decision depends on.
        expect(Math.abs(verdict.upper - step.upper)).toBeLessThanOrEqual(1e-9 * step.upper);
        expect(Math.abs(verdict.lower - step.lower)).toBeLessThanOrEqual(1e-9 * Math.max(step.lower, 1e-12));
      });
    });
  }
});

/** Runs a stream of `batches` batches at true rate p; returns the trials at the first rejection. */
function firstRejection(
  random: SeededRandom,
  config: { limit: number; alpha: number },
  p: number,
  batchSize: number,
  batches: number,
  side: 'breach' | 'within',
): number | null {
  let state = initialLimitTest(config);
  for (let b = 0; b < batches; b++) {
    state = updateLimitTest(state, { trials: batchSize, events: sampleBinomial(random, batchSize, p) });
    if (side === 'breach' && state.breachedAfter !== null) return state.breachedAfter;
    // The within side is read directly: a (sticky) breach must not hide its false rejections.
    if (side === 'within' && limitEvidence(state).logEWithin >= Math.log(1 / config.alpha))
      return state.trials;
  }
  return null;
}

describe('A/A: at the null boundary, checked after every batch', () => {
  // 2,000 streams × 20,000 trials in batches of 100 (200 looks each).
  for (const [limit, alpha] of [
    [0.01, 0.05],
    [0.01, 0.01],
    [0.001, 0.05],
  ] as const) {
    it(`breach side: rate = limit ${limit}, α ${alpha}: false rejections ≤ α`, () => {
      const random = new SeededRandom(101);
      let rejected = 0;
      const streams = 2000;
      for (let s = 0; s < streams; s++) {
        if (firstRejection(random, { limit, alpha }, limit, 100, 200, 'breach') !== null) rejected++;
      }
      const rate = rejected / streams;
      const slack = 3 * Math.sqrt((alpha * (1 - alpha)) / streams);
      console.log(`A/A breach limit=${limit} α=${alpha}: ${rejected}/${streams} = ${rate.toFixed(4)}`);
      expect(rate).toBeLessThanOrEqual(alpha + slack);
    });
  }

  it('within side: rate = limit 0.01, α 0.05: false "within" ≤ α (so the upper bound covers)', () => {
    const random = new SeededRandom(202);
    let rejected = 0;
    const streams = 2000;
    for (let s = 0; s < streams; s++) {
      if (firstRejection(random, { limit: 0.01, alpha: 0.05 }, 0.01, 100, 200, 'within') !== null) rejected++;
    }
    const rate = rejected / streams;
    console.log(`A/A within limit=0.01 α=0.05: ${rejected}/${streams} = ${rate.toFixed(4)}`);
    expect(rate).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / streams));
  });
});

describe('one-sided in simulation', () => {
  it('a rate at half the limit never breaches in 500 streams of 20,000 trials', () => {
    const random = new SeededRandom(121);
    let breached = 0;
    for (let s = 0; s < 500; s++) {
      if (firstRejection(random, { limit: 0.01, alpha: 0.05 }, 0.005, 100, 200, 'breach') !== null)
        breached++;
    }
    expect(breached).toBe(0);
  });
});

describe('power against the Wald SPRT oracle (α 0.01, β 0.05)', () => {
  const oracle = (p0: number, p1: number): number =>
    sprtExpectedSamples({ alpha: 0.01, beta: 0.05, kl: klBernoulli(p0, p1) });

  for (const [p0, p1, side] of [
    [0.01, 0.02, 'breach'],
    [0.001, 0.002, 'breach'],
    [0.01, 0.005, 'within'],
  ] as const) {
    it(`${side}: ${p0} → ${p1}, median samples to decide ≤ 1.5 × the oracle`, () => {
      const random = new SeededRandom(303);
      const target = oracle(p0, p1);
      const batch = Math.max(1, Math.round(target / 100));
      const detections: number[] = [];
      for (let s = 0; s < 500; s++) {
        detections.push(
          firstRejection(random, { limit: p0, alpha: 0.01 }, p1, batch, 4000, side) ?? Infinity,
        );
      }
      const ratio = median(detections) / target;
      console.log(
        `${side} ${p0}→${p1}: median ${median(detections)} vs oracle ${target.toFixed(0)} = ${ratio.toFixed(2)}×`,
      );
      expect(ratio).toBeLessThanOrEqual(1.5);
    });
  }
  it('effects off the design (2×) cost more, but stay well under the ≈ 1.9× of a flat mixture', () => {
    const random = new SeededRandom(313);
    const ratios: string[] = [];
    let worst = 0;
    for (const effect of [1.5, 3, 5, 10]) {
      const target = oracle(0.01, 0.01 * effect);
      const batch = Math.max(1, Math.round(target / 100));
      const detections: number[] = [];
      for (let s = 0; s < 300; s++) {
        detections.push(
          firstRejection(random, { limit: 0.01, alpha: 0.01 }, 0.01 * effect, batch, 4000, 'breach') ??
            Infinity,
        );
      }
      const ratio = median(detections) / target;
      worst = Math.max(worst, ratio);
      ratios.push(`${effect}×: ${ratio.toFixed(2)}`);
    }
    console.log(`breach 0.01 → effect × 0.01, median / oracle: ${ratios.join(', ')}`);
    expect(worst).toBeLessThanOrEqual(1.75);
  });
});

describe('persistence', () => {
  it('a JSON round-trip mid-stream changes no decision', () => {
    const random = new SeededRandom(7);
    const batches = Array.from({ length: 40 }, () => ({
      trials: 50,
      events: sampleBinomial(random, 50, 0.018),
    }));
    let straight = initialLimitTest({ limit: 0.01, alpha: 0.01 });
    let resumed = straight;
    for (const [i, batch] of batches.entries()) {
      straight = updateLimitTest(straight, batch);
      resumed = updateLimitTest(resumed, batch);
      if (i % 7 === 3) {
        const restored = restoreTestState(JSON.parse(JSON.stringify(resumed)));
        if (!restored.ok || restored.value.kind !== 'limit') throw new Error('did not restore');
        resumed = restored.value;
      }
      expect(decideLimitTest(resumed)).toEqual(decideLimitTest(straight));
    }
    expect(resumed).toEqual(straight);
  });

  it("keeps the within side's own level across a round-trip", () => {
    const state = updateLimitTest(initialLimitTest({ limit: 0.01, alpha: 0.002, promotionAlpha: 0.01 }), {
      trials: 700,
      events: 0,
    });
    const restored = restoreTestState(JSON.parse(JSON.stringify(state)));
    expect(restored.ok && restored.value).toEqual(state);
    expect(restoreTestState({ ...state, promotionAlpha: 1 }).ok).toBe(false);
  });

  it('refuses a state whose mixture is not one-sided', () => {
    const state = initialLimitTest({ limit: 0.01, alpha: 0.01 });
    const broken = { ...state, breach: { ...state.breach, ratios: state.breach.ratios.map(() => 0.5) } };
    expect(restoreTestState(JSON.parse(JSON.stringify(broken))).ok).toBe(false);
    expect(restoreTestState({ ...state, trials: -1 }).ok).toBe(false);
  });
});

describe('properties', () => {
  const batches = (limit: number, atMostLimit: boolean): fc.Arbitrary<{ trials: number; events: number }[]> =>
    fc.array(
      fc
        .integer({ min: 0, max: 5000 })
        .chain((trials) =>
          fc
            .integer({ min: 0, max: atMostLimit ? Math.floor(trials * limit) : trials })
            .map((events) => ({ trials, events })),
        ),
      { maxLength: 30 },
    );
  const limits = fc.double({ min: 1e-4, max: 0.9, noNaN: true });

  it('e-values are finite (so nonnegative once exponentiated) and the bounds bracket the rate', () => {
    fc.assert(
      fc.property(
        limits.chain((limit) => batches(limit, false).map((bs) => ({ limit, bs }))),
        ({ limit, bs }) => {
          let state = initialLimitTest({ limit, alpha: 0.01 });
          for (const b of bs) state = updateLimitTest(state, b);
          const v = decideLimitTest(state);
          expect(Number.isFinite(v.logEBreach) && Number.isFinite(v.logEWithin)).toBe(true);
          expect(Math.exp(v.logEBreach)).toBeGreaterThanOrEqual(0);
          expect(v.lower).toBeLessThanOrEqual(v.rate + 1e-12);
          expect(v.upper).toBeGreaterThanOrEqual(v.rate - 1e-12);
          expect(JSON.parse(JSON.stringify(state))).toEqual(state);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('one-sided: counts never above the limit never breach (e-value ≤ 1)', () => {
    fc.assert(
      fc.property(
        limits.chain((limit) => batches(limit, true).map((bs) => ({ limit, bs }))),
        ({ limit, bs }) => {
          let state = initialLimitTest({ limit, alpha: 0.5 });
          for (const b of bs) {
            state = updateLimitTest(state, b);
            expect(decideLimitTest(state).logEBreach).toBeLessThanOrEqual(1e-9);
          }
          expect(state.breachedAfter).toBeNull();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bounds tighten around the true rate', () => {
    const random = new SeededRandom(11);
    let state = initialLimitTest({ limit: 0.01, alpha: 0.01 });
    for (let i = 0; i < 100; i++)
      state = updateLimitTest(state, { trials: 1000, events: sampleBinomial(random, 1000, 0.004) });
    const { lower, upper } = limitBounds(state);
    expect(lower).toBeLessThan(0.004);
    expect(upper).toBeGreaterThan(0.004);
    expect(upper - lower).toBeLessThan(0.002);
    expect(decideLimitTest(state).status).toBe('within');
  });
});

describe('configuration', () => {
  it('rejects limits, levels and designs outside their ranges', () => {
    expect(() => initialLimitTest({ limit: 0, alpha: 0.01 })).toThrow(RangeError);
    expect(() => initialLimitTest({ limit: 0.01, alpha: 1 })).toThrow(RangeError);
    expect(() => initialLimitTest({ limit: 0.01, alpha: 0.01, breachDesign: 0.005 })).toThrow(RangeError);
    expect(() => initialLimitTest({ limit: 0.01, alpha: 0.01, withinDesign: 0.02 })).toThrow(RangeError);
    const state = initialLimitTest({ limit: 0.01, alpha: 0.01 });
    expect(() => updateLimitTest(state, { trials: 5, events: 6 })).toThrow(RangeError);
    expect(() => updateLimitTest(state, { trials: -1, events: 0 })).toThrow(RangeError);
  });
});

describe('the within side at its own level (promotionAlpha)', () => {
  /** Error-free trials until `shown` holds, in batches of 10. */
  const until = (state: ReturnType<typeof initialLimitTest>, shown: (s: typeof state) => boolean): number => {
    let s = state;
    while (!shown(s) && s.trials < 100_000) s = updateLimitTest(s, { trials: 10, events: 0 });
    return s.trials;
  };

  it('shows "within" and "below a rate" sooner at a larger level; the breach side and the bounds keep α', () => {
    const strict = initialLimitTest({ limit: 0.01, alpha: 0.002 });
    const promoting = initialLimitTest({ limit: 0.01, alpha: 0.002, promotionAlpha: 0.01 });
    const within = (s: typeof strict): boolean => limitEvidence(s).status === 'within';
    // ln(1/α) nats at ≈ 0.01 nats per error-free trial (the mixture's smallest rates): ln 5 apart.
    const strictWithin = until(strict, within);
    const promotingWithin = until(promoting, within);
    expect(promotingWithin).toBeLessThan(strictWithin);
    expect(strictWithin - promotingWithin).toBeGreaterThan(100);
    expect(until(promoting, (s) => shownBelow(s, 0.0075))).toBeLessThan(
      until(strict, (s) => shownBelow(s, 0.0075)),
    );
    expect(until(promoting, within)).toBe(until(initialLimitTest({ limit: 0.01, alpha: 0.01 }), within));
    // The level of the within side changes nothing else.
    const batches = [
      { trials: 400, events: 14 },
      { trials: 400, events: 13 },
    ];
    const a = batches.reduce(updateLimitTest, strict);
    const b = batches.reduce(updateLimitTest, promoting);
    expect(b.breachedAfter).toBe(a.breachedAfter);
    expect(a.breachedAfter).not.toBeNull();
    expect(limitBounds(b)).toEqual(limitBounds(a));
    expect(limitEvidence(b).logThreshold).toBe(limitEvidence(a).logThreshold);
  });

  it('A/A at the limit: a false "within" at the promotion level stays under it', () => {
    const random = new SeededRandom(31);
    let falseWithin = 0;
    const streams = 1000;
    for (let i = 0; i < streams; i++) {
      let s = initialLimitTest({ limit: 0.01, alpha: 0.0001, promotionAlpha: 0.05 });
      for (let t = 0; t < 100; t++) {
        s = updateLimitTest(s, { trials: 200, events: sampleBinomial(random, 200, 0.01) });
        if (limitEvidence(s).status === 'within') {
          falseWithin++;
          break;
        }
      }
    }
    expect(falseWithin / streams).toBeLessThanOrEqual(0.05);
  });

  it('rejects a level outside (0, 1)', () => {
    expect(() => initialLimitTest({ limit: 0.01, alpha: 0.01, promotionAlpha: 0 })).toThrow(RangeError);
  });
});

describe('countAbove', () => {
  it('counts values strictly above the threshold', () => {
    expect(countAbove([120, 400, 401, 999, 3], 400)).toEqual({ trials: 5, events: 2 });
    expect(countAbove([], 1)).toEqual({ trials: 0, events: 0 });
  });
});
