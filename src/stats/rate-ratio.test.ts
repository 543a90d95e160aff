import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import type { OddsRatioMixture } from './mixture.js';
import { dirichletMultinomialLogBF, oneSidedBetaLogBF } from './multinomial.js';
import { restoreTestState } from './persist.js';
import {
  ERROR_REGRESSION_MIXTURE,
  type RateRatioBatch,
  canaryEventProbability,
  decideRateRatio,
  initialRateRatio,
  rateRatioBatch,
  updateRateRatio,
} from './rate-ratio.js';
import { median, sampleBinomial } from './simulate.js';
import { klRelativeRate, sprtExpectedSamples } from './sprt.js';

interface RateRatioCase {
  name: string;
  alpha: number;
  tolerance: number;
  mixture?: OddsRatioMixture;
  batches: RateRatioBatch[];
  steps: { logEWorse: number; logENotWorse: number; worseAfter: number | null }[];
}

const cases = (
  JSON.parse(readFileSync(new URL('../../test/fixtures/stats/reference.json', import.meta.url), 'utf8')) as {
    rateRatio: RateRatioCase[];
  }
).rateRatio;

const near = (actual: number, expected: number, rel: number): void =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));

describe('rate-ratio test against products of binomial ratios computed in Python', () => {
  it('the controller’s error-regression mixture is the one the generator uses', () => {
    const c = cases.find((x) => x.mixture !== undefined);
    expect(c?.mixture).toEqual(ERROR_REGRESSION_MIXTURE);
  });

  for (const c of cases) {
    it(c.name, () => {
      let state = initialRateRatio({
        alpha: c.alpha,
        tolerance: c.tolerance,
        ...(c.mixture === undefined ? {} : { mixture: c.mixture }),
      });
      c.batches.forEach((batch, i) => {
        state = updateRateRatio(state, batch);
        const verdict = decideRateRatio(state);
        const step = c.steps[i];
        if (step === undefined) throw new Error('fixture is short');
        near(verdict.logEWorse, step.logEWorse, 1e-10);
        near(verdict.logENotWorse, step.logENotWorse, 1e-10);
        expect(verdict.worseAfter).toBe(step.worseAfter);
      });
    });
  }
});

/** Tiers as the controller walks them; each tick brings `perTick` events in total. */
const TIERS = [0.001, 0.01, 0.05, 0.25, 0.5];

function stream(
  random: SeededRandom,
  options: {
    ratio: number;
    tolerance?: number;
    alpha: number;
    shares: readonly number[];
    perTick: number;
    mixture?: OddsRatioMixture;
  },
): number | null {
  let state = initialRateRatio({
    alpha: options.alpha,
    tolerance: options.tolerance ?? 1,
    ...(options.mixture === undefined ? {} : { mixture: options.mixture }),
  });
  for (const share of options.shares) {
    const canary = sampleBinomial(random, options.perTick, canaryEventProbability(share, options.ratio));
    state = updateRateRatio(state, { canary, stable: options.perTick - canary, canaryShare: share });
    if (state.worseAfter !== null) return state.worseAfter;
  }
  return null;
}

const ticks = (perTier: number, shares: readonly number[]): number[] =>
  shares.flatMap((s) => Array<number>(perTier).fill(s));

describe('A/A: canary exactly at the tolerance, share changing every tier', () => {
  for (const [tolerance, alpha] of [
    [1, 0.05],
    [1, 0.01],
    [1.5, 0.05],
  ] as const) {
    it(`tolerance ${tolerance}, α ${alpha}: false "worse" ≤ α`, () => {
      const random = new SeededRandom(404);
      const streams = 2000;
      const shares = ticks(40, TIERS);
      let rejected = 0;
      for (let s = 0; s < streams; s++) {
        if (stream(random, { ratio: tolerance, tolerance, alpha, shares, perTick: 5 }) !== null) rejected++;
      }
      const rate = rejected / streams;
      console.log(
        `A/A rate-ratio tolerance=${tolerance} α=${alpha}: ${rejected}/${streams} = ${rate.toFixed(4)}`,
      );
      expect(rate).toBeLessThanOrEqual(alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / streams));
    });
  }

  it('binomial requests per revision (hypergeometric split) stay valid', () => {
    const random = new SeededRandom(505);
    const streams = 1000;
    let rejected = 0;
    for (let s = 0; s < streams; s++) {
      let state = initialRateRatio({ alpha: 0.05 });
      for (const share of ticks(20, TIERS)) {
        const canaryRequests = Math.round(2000 * share);
        const stableRequests = 2000 - canaryRequests;
        state = updateRateRatio(
          state,
          rateRatioBatch({
            canaryRequests,
            canaryErrors: sampleBinomial(random, canaryRequests, 0.02),
            stableRequests,
            stableErrors: sampleBinomial(random, stableRequests, 0.02),
          }),
        );
      }
      if (state.worseAfter !== null) rejected++;
    }
    console.log(`A/A rate-ratio with binomial requests α=0.05: ${rejected}/${streams}`);
    expect(rejected / streams).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / streams));
  });
});

describe('power: canary 2× the stable at equal shares (oracle ≈ 74 events)', () => {
  const oracle = sprtExpectedSamples({ alpha: 0.01, beta: 0.05, kl: klRelativeRate(0.5, 2) });

  it('median events to detect ≤ 1.5 × the oracle, and fewer than the two-sided Dirichlet mixture', () => {
    const random = new SeededRandom(606);
    const shares = Array<number>(2000).fill(0.5);
    const grid: number[] = [];
    const lindon: number[] = [];
    const oneSidedBeta: number[] = [];
    for (let s = 0; s < 1000; s++) {
      grid.push(stream(random, { ratio: 2, alpha: 0.01, shares, perTick: 1 }) ?? Infinity);
      // The reference mixtures on the same kind of stream, one event at a time.
      let c = 0;
      let n = 0;
      let lindonAt = Infinity;
      let betaAt = Infinity;
      while (n < 2000 && (lindonAt === Infinity || betaAt === Infinity)) {
        n++;
        if (random.next() < 2 / 3) c++;
        const threshold = Math.log(100);
        if (lindonAt === Infinity && dirichletMultinomialLogBF([c, n - c], [0.5, 0.5], 1) >= threshold)
          lindonAt = n;
        const oneSided = oneSidedBetaLogBF({ canary: c, stable: n - c, canaryShare: 0.5, concentration: 1 });
        if (betaAt === Infinity && oneSided >= threshold) betaAt = n;
      }
      lindon.push(lindonAt);
      oneSidedBeta.push(betaAt);
    }
    const report = (name: string, xs: number[]): number => {
      const ratio = median(xs) / oracle;
      console.log(
        `${name}: median ${median(xs)} events vs oracle ${oracle.toFixed(1)} = ${ratio.toFixed(2)}×`,
      );
      return ratio;
    };
    const gridRatio = report('rate-ratio (one-sided grid)', grid);
    const lindonRatio = report('Dirichlet mixture k=1 (two-sided, Lindon et al.)', lindon);
    report('Beta mixture k=1 truncated to "worse"', oneSidedBeta);
    expect(gridRatio).toBeLessThanOrEqual(1.5);
    expect(gridRatio).toBeLessThan(lindonRatio);
  });

  it('detects through the tiers, where the share changes under it', () => {
    const random = new SeededRandom(707);
    const detected: number[] = [];
    for (let s = 0; s < 500; s++) {
      detected.push(
        stream(random, { ratio: 2, alpha: 0.01, shares: ticks(30, TIERS), perTick: 4 }) ?? Infinity,
      );
    }
    console.log(`rate-ratio 2× through tiers ${TIERS.join(' → ')}: median ${median(detected)} events`);
    expect(median(detected)).toBeLessThan(600);
  });
});

describe('power of the controller’s mixture at 1.5×, 2× and 5× (equal shares, α 0.0025)', () => {
  it('no effect costs more than 1.6 × the oracle (the design grid printed beside it)', () => {
    const shares = Array<number>(5000).fill(0.5);
    const lines: string[] = [];
    for (const ratio of [1.5, 2, 5]) {
      const oracle = sprtExpectedSamples({ alpha: 0.01, beta: 0.05, kl: klRelativeRate(0.5, ratio) });
      const measure = (mixture?: OddsRatioMixture): number => {
        const random = new SeededRandom(2025);
        const detected = Array.from(
          { length: 600 },
          () =>
            stream(random, { ratio, alpha: 0.0025, shares, perTick: 1, ...(mixture ? { mixture } : {}) }) ??
            Infinity,
        );
        return median(detected) / oracle;
      };
      const controller = measure(ERROR_REGRESSION_MIXTURE);
      const grid = measure();
      lines.push(`${ratio}×: ${controller.toFixed(2)} (design grid ${grid.toFixed(2)})`);
      expect(controller).toBeLessThanOrEqual(1.6);
    }
    console.log(`rate-ratio at α 0.0025, median events / oracle at α 0.01: ${lines.join(', ')}`);
  });
});

describe('persistence', () => {
  it('a JSON round-trip mid-stream changes no decision', () => {
    const random = new SeededRandom(8);
    let straight = initialRateRatio({ alpha: 0.01, tolerance: 1.2 });
    let resumed = straight;
    for (const [i, share] of ticks(10, TIERS).entries()) {
      const canary = sampleBinomial(random, 6, canaryEventProbability(share, 2.5));
      const batch = { canary, stable: 6 - canary, canaryShare: share };
      straight = updateRateRatio(straight, batch);
      resumed = updateRateRatio(resumed, batch);
      if (i % 5 === 2) {
        const restored = restoreTestState(JSON.parse(JSON.stringify(resumed)));
        if (!restored.ok || restored.value.kind !== 'rate-ratio') throw new Error('did not restore');
        resumed = restored.value;
      }
      expect(decideRateRatio(resumed)).toEqual(decideRateRatio(straight));
    }
    expect(decideRateRatio(straight).status).toBe('worse');
  });
});

describe('properties', () => {
  const batch = fc
    .record({
      total: fc.integer({ min: 0, max: 500 }),
      share: fc.double({ min: 0.0001, max: 0.9999, noNaN: true }),
    })
    .chain(({ total, share }) =>
      fc
        .integer({ min: 0, max: total })
        .map((canary) => ({ canary, stable: total - canary, canaryShare: share })),
    );

  it('e-values stay finite and the state stays JSON', () => {
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 40 }), (batches) => {
        let state = initialRateRatio({ alpha: 0.01 });
        for (const b of batches) state = updateRateRatio(state, b);
        const v = decideRateRatio(state);
        expect(Number.isFinite(v.logEWorse) && Number.isFinite(v.logENotWorse)).toBe(true);
        expect(JSON.parse(JSON.stringify(state))).toEqual(state);
      }),
      { numRuns: 200 },
    );
  });

  it('one-sided: a canary never above its share of events never counts as worse', () => {
    const notWorse = batch.map((b) => {
      const total = b.canary + b.stable;
      const canary = Math.min(b.canary, Math.floor(total * b.canaryShare));
      return { canary, stable: total - canary, canaryShare: b.canaryShare };
    });
    fc.assert(
      fc.property(fc.array(notWorse, { maxLength: 40 }), (batches) => {
        let state = initialRateRatio({ alpha: 0.5 });
        for (const b of batches) {
          state = updateRateRatio(state, b);
          expect(decideRateRatio(state).logEWorse).toBeLessThanOrEqual(1e-9);
        }
        expect(state.worseAfter).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('refuses events from a revision with no traffic', () => {
    const state = initialRateRatio({ alpha: 0.01 });
    expect(() => updateRateRatio(state, { canary: 1, stable: 0, canaryShare: 0 })).toThrow(RangeError);
    expect(() => updateRateRatio(state, { canary: 0, stable: 0, canaryShare: 1.5 })).toThrow(RangeError);
    expect(() => initialRateRatio({ alpha: 0.01, tolerance: 2, design: 1.5 })).toThrow(RangeError);
  });
});
