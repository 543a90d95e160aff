import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import { exceedanceBatch, pooledThreshold, shiftOddsRatio } from './latency.js';
import { restoreTestState } from './persist.js';
import {
  type ProportionBatch,
  decideProportionTest,
  initialProportionTest,
  updateProportionTest,
} from './proportions.js';
import { median, sampleNormal } from './simulate.js';
import { klLogNormalRatio, sprtExpectedSamples } from './sprt.js';

interface Reference {
  proportions: {
    name: string;
    alpha: number;
    design: number;
    batches: ProportionBatch[];
    steps: { logEWorse: number; logENotWorse: number }[];
  }[];
  shiftOddsRatio: {
    ratio: number;
    sigmaLog: number;
    quantile: number;
    canaryShare: number;
    oddsRatio: number;
  }[];
}

const reference = JSON.parse(
  readFileSync(new URL('../../test/fixtures/stats/reference.json', import.meta.url), 'utf8'),
) as Reference;

const near = (actual: number, expected: number, rel: number): void =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));

describe('proportion test against SciPy noncentral hypergeometric likelihoods', () => {
  for (const c of reference.proportions) {
    it(c.name, () => {
      let state = initialProportionTest({ alpha: c.alpha, design: c.design });
      c.batches.forEach((batch, i) => {
        state = updateProportionTest(state, batch);
        const verdict = decideProportionTest(state);
        const step = c.steps[i];
        if (step === undefined) throw new Error('fixture is short');
        near(verdict.logEWorse, step.logEWorse, 1e-8);
        near(verdict.logENotWorse, step.logENotWorse, 1e-8);
      });
    });
  }

  it('shiftOddsRatio against SciPy', () => {
    for (const c of reference.shiftOddsRatio) near(shiftOddsRatio(c), c.oddsRatio, 1e-5);
  });
});

/** `n` log-normal latencies (median 100 ms) made `ratio` × slower. */
function latencies(random: SeededRandom, n: number, ratio: number, sigmaLog: number): number[] {
  return Array.from({ length: n }, () => 100 * ratio * Math.exp(sigmaLog * sampleNormal(random)));
}

/** Pairs (canary + stable requests, at equal traffic) until the "worse" side rejects, or null. */
function latencyStream(
  random: SeededRandom,
  options: {
    ratio: number;
    sigmaLog: number;
    quantile: number;
    design: number;
    alpha: number;
    canary: number;
    stable: number;
    batches: number;
  },
): number | null {
  let state = initialProportionTest({ alpha: options.alpha, design: options.design });
  for (let b = 0; b < options.batches; b++) {
    const canary = latencies(random, options.canary, options.ratio, options.sigmaLog);
    const stable = latencies(random, options.stable, 1, options.sigmaLog);
    const threshold = pooledThreshold(canary, stable, options.quantile);
    state = updateProportionTest(state, exceedanceBatch(canary, stable, threshold));
    if (state.worseAfter !== null) return state.canaryRequests;
  }
  return null;
}

describe('A/A: same latency distribution, pooled threshold from the same batch', () => {
  for (const [quantile, canary, stable] of [
    [0.5, 20, 80],
    [0.9, 5, 200],
  ] as const) {
    it(`quantile ${quantile}, ${canary} canary / ${stable} stable requests a batch: false "worse" ≤ α`, () => {
      const random = new SeededRandom(808);
      const streams = 1000;
      let rejected = 0;
      for (let s = 0; s < streams; s++) {
        const options = {
          ratio: 1,
          sigmaLog: 0.7,
          quantile,
          design: 1.4,
          alpha: 0.05,
          canary,
          stable,
          batches: 30,
        };
        if (latencyStream(random, options) !== null) rejected++;
      }
      console.log(`A/A latency comparison q=${quantile}: ${rejected}/${streams}`);
      expect(rejected / streams).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / streams));
    });
  }
});

describe('power against the normal-theory oracle (pairs, α 0.01, β 0.05)', () => {
  for (const [ratio, sigmaLog, streams] of [
    [1.1, 0.5, 400],
    [1.05, 1.0, 100],
  ] as const) {
    it(`+${Math.round((ratio - 1) * 100)}% at σ_log ${sigmaLog}, pooled median: within 2 × the oracle`, () => {
      const random = new SeededRandom(909);
      const oracle = sprtExpectedSamples({
        alpha: 0.01,
        beta: 0.05,
        kl: klLogNormalRatio(ratio, sigmaLog, 'pair'),
      });
      const perBatch = Math.max(5, Math.round(oracle / 50));
      const design = shiftOddsRatio({ ratio, sigmaLog });
      const detected: number[] = [];
      for (let s = 0; s < streams; s++) {
        const options = {
          ratio,
          sigmaLog,
          quantile: 0.5,
          design,
          alpha: 0.01,
          canary: perBatch,
          stable: perBatch,
          batches: 400,
        };
        detected.push(latencyStream(random, options) ?? Infinity);
      }
      const measured = median(detected) / oracle;
      console.log(
        `latency +${Math.round((ratio - 1) * 100)}% σ=${sigmaLog}: median ${median(detected)} pairs vs oracle ${oracle.toFixed(0)} = ${measured.toFixed(2)}× (design odds ratio ${design.toFixed(3)})`,
      );
      // A median split keeps 2/π of a normal shift's information: ≈ 1.57× before any mixture cost.
      expect(measured).toBeLessThanOrEqual(2);
    });
  }
});

describe('persistence and properties', () => {
  it('a JSON round-trip mid-stream changes no decision', () => {
    const random = new SeededRandom(9);
    let straight = initialProportionTest({ alpha: 0.01 });
    let resumed = straight;
    for (let i = 0; i < 15; i++) {
      const canary = latencies(random, 30, 1.3, 0.5);
      const stable = latencies(random, 60, 1, 0.5);
      const batch = exceedanceBatch(canary, stable, pooledThreshold(canary, stable, 0.5));
      straight = updateProportionTest(straight, batch);
      resumed = updateProportionTest(resumed, batch);
      const restored = restoreTestState(JSON.parse(JSON.stringify(resumed)));
      if (!restored.ok || restored.value.kind !== 'proportions') throw new Error('did not restore');
      resumed = restored.value;
      expect(decideProportionTest(resumed)).toEqual(decideProportionTest(straight));
    }
    expect(decideProportionTest(straight).status).toBe('worse');
  });

  const table = fc
    .record({ n1: fc.integer({ min: 0, max: 300 }), n2: fc.integer({ min: 0, max: 300 }) })
    .chain(({ n1, n2 }) =>
      fc.record({
        canaryRequests: fc.constant(n1),
        canaryEvents: fc.integer({ min: 0, max: n1 }),
        stableRequests: fc.constant(n2),
        stableEvents: fc.integer({ min: 0, max: n2 }),
      }),
    );

  it('e-values stay finite', () => {
    fc.assert(
      fc.property(fc.array(table, { maxLength: 20 }), (batches) => {
        let state = initialProportionTest({ alpha: 0.01 });
        for (const b of batches) state = updateProportionTest(state, b);
        const v = decideProportionTest(state);
        expect(Number.isFinite(v.logEWorse) && Number.isFinite(v.logENotWorse)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('one-sided: a canary never above its expected share of events never counts as worse', () => {
    const atMostExpected = table.map((b) => {
      const m = b.canaryEvents + b.stableEvents;
      const n = b.canaryRequests + b.stableRequests;
      const expected = n === 0 ? 0 : (b.canaryRequests * m) / n;
      const canaryEvents = Math.min(b.canaryEvents, Math.floor(expected));
      // Keep the margins: move the surplus to the stable, within its requests.
      const stableEvents = Math.min(b.stableRequests, m - canaryEvents);
      return { ...b, canaryEvents: Math.max(canaryEvents, m - stableEvents), stableEvents };
    });
    fc.assert(
      fc.property(fc.array(atMostExpected, { maxLength: 20 }), (batches) => {
        let state = initialProportionTest({ alpha: 0.5 });
        for (const b of batches) {
          state = updateProportionTest(state, b);
          expect(decideProportionTest(state).logEWorse).toBeLessThanOrEqual(1e-9);
        }
      }),
      { numRuns: 150 },
    );
  });
});
