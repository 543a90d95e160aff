import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import type { Random } from '../core/random.js';
import {
  LATENCY_SHIFTS,
  type LogMoments,
  type LogShiftState,
  decideLogShiftTest,
  initialLogShiftTest,
  logMoments,
  logShiftTolerance,
  seedLogShiftTest,
  updateLogShiftTest,
} from './log-shift.js';
import { restoreTestState } from './persist.js';
import { median, sampleBinomial, sampleNormal } from './simulate.js';
import { klLogNormalRatio, sprtExpectedSamples } from './sprt.js';

interface Reference {
  latencyShifts: [number, number][];
  logShift: {
    name: string;
    alpha: number;
    relativeTolerance: number;
    absoluteTolerance: number;
    margin: number;
    minBatch: number;
    before: LogMoments | null;
    windows: { canary: LogMoments; stable: LogMoments; stratum: number }[];
    steps: { logEWorse: number; logENotWorse: number; worseAfter: number | null }[];
  }[];
}

const reference = JSON.parse(
  readFileSync(new URL('../../test/fixtures/stats/reference.json', import.meta.url), 'utf8'),
) as Reference;

const near = (actual: number, expected: number, rel: number): void =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));

describe('log-shift test against Gaussian likelihood ratios computed with SciPy', () => {
  it('uses the mixture the generator uses', () => {
    const total = reference.latencyShifts.reduce((s, [, w]) => s + w, 0);
    expect(LATENCY_SHIFTS.ratios).toEqual(reference.latencyShifts.map(([r]) => r));
    LATENCY_SHIFTS.weights.forEach((w, i) => near(w, (reference.latencyShifts[i]?.[1] ?? 0) / total, 1e-15));
  });

  for (const c of reference.logShift) {
    it(c.name, () => {
      let state = initialLogShiftTest({
        alpha: c.alpha,
        relativeTolerance: c.relativeTolerance,
        absoluteTolerance: c.absoluteTolerance,
        margin: c.margin,
        minBatch: c.minBatch,
      });
      if (c.before !== null) state = seedLogShiftTest(state, c.before);
      c.windows.forEach((window, i) => {
        state = updateLogShiftTest(state, window);
        const verdict = decideLogShiftTest(state);
        const step = c.steps[i];
        if (step === undefined) throw new Error('fixture is short');
        // Moments from raw values in SciPy, the variance from the moments here: ~1e-12 apart.
        near(verdict.logEWorse, step.logEWorse, 1e-8);
        near(verdict.logENotWorse, step.logENotWorse, 1e-8);
        expect(state.worseAfter).toBe(step.worseAfter);
      });
    });
  }
});

/** A distribution of log-latency (ln ms) per request; `t` is the window's index. */
type LogLatency = (random: Random, t: number) => number;

const LN50 = Math.log(50);
/** Healthy worlds the comparison must not mistake for a regression (canary = stable). */
const WORLDS: Record<string, LogLatency> = {
  'log-normal σ 0.5': (r) => LN50 + 0.5 * sampleNormal(r),
  // 5% slow requests with an exponential tail in log space (×4.5 on average, some ×100).
  'skewed tail': (r) => LN50 + 0.4 * sampleNormal(r) + (r.next() < 0.05 ? -1.5 * Math.log(1 - r.next()) : 0),
  'Student t₃ in log space': (r) => {
    let chi = 0;
    for (let i = 0; i < 3; i++) chi += sampleNormal(r) ** 2;
    return LN50 + (0.4 * sampleNormal(r)) / Math.sqrt(chi / 3);
  },
  'bimodal (10% cache misses, ×7.4)': (r) => LN50 + 0.3 * sampleNormal(r) + (r.next() < 0.1 ? 2 : 0),
  'timeouts (0.5% at 30 s)': (r) => (r.next() < 0.005 ? Math.log(30_000) : LN50 + 0.5 * sampleNormal(r)),
  'Gumbel (skew 1.14)': (r) => LN50 - 0.5 * Math.log(-Math.log(1 - r.next())),
  'spread jumps ×5 mid-stream': (r, t) => LN50 + (t < 60 ? 0.2 : 1) * sampleNormal(r),
  'both drift (diurnal)': (r, t) => LN50 + Math.sin(t / 20) + 0.5 * sampleNormal(r),
};

function draw(random: Random, n: number, world: LogLatency, t: number, shift = 0): LogMoments {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const l = world(random, t) + shift;
    sum += l;
    sumSq += l * l;
  }
  return { n, sum, sumSq };
}

/**
 * One stream: `rate` requests a window split at `share`, for `windows` windows, checked after each;
 * the canary's log-latency shifted by `shift`. Canary requests until "worse", or null.
 */
function stream(
  random: Random,
  options: {
    world: LogLatency;
    share: number;
    rate: number;
    windows: number;
    alpha: number;
    shift?: number;
    absoluteTolerance?: number;
  },
): number | null {
  const { world, share, rate, windows, alpha } = options;
  let state = initialLogShiftTest({ alpha, absoluteTolerance: options.absoluteTolerance ?? 0 });
  state = seedLogShiftTest(state, draw(random, rate, world, -1));
  let served = 0;
  for (let t = 0; t < windows; t++) {
    const canary = sampleBinomial(random, rate, share);
    served += canary;
    state = updateLogShiftTest(state, {
      canary: draw(random, canary, world, t, options.shift ?? 0),
      stable: draw(random, rate - canary, world, t),
      stratum: share,
    });
    if (state.worseAfter !== null) return served;
  }
  return null;
}

describe('A/A: canary = stable, heavy tails, skew, unequal load, checked after every window', () => {
  const alpha = 0.05;
  const streams = 300;
  const bound = alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / streams);
  for (const [name, world] of Object.entries(WORLDS)) {
    it(`${name}: canary at 1% and at 50%, false "worse" ≤ α`, () => {
      const random = new SeededRandom(4242);
      const rates: string[] = [];
      for (const [share, windows] of [
        [0.01, 300],
        [0.5, 120],
      ] as const) {
        let rejected = 0;
        for (let s = 0; s < streams; s++) {
          if (stream(random, { world, share, rate: 100, windows, alpha }) !== null) rejected++;
        }
        rates.push(`${share * 100}%: ${rejected}/${streams}`);
        expect(rejected / streams).toBeLessThanOrEqual(bound);
      }
      console.log(`A/A log-shift, ${name} (α ${alpha}): ${rates.join(', ')}`);
    });
  }

  it('at the release level used by bench:detect (α 0.0025), 1% vs 99%: false "worse" ≤ α', () => {
    const random = new SeededRandom(77);
    const level = 0.0025;
    const runs = 2000;
    let rejected = 0;
    for (let s = 0; s < runs; s++) {
      const world = s % 2 === 0 ? WORLDS['skewed tail'] : WORLDS['timeouts (0.5% at 30 s)'];
      if (world === undefined) throw new Error('no world');
      if (stream(random, { world, share: 0.01, rate: 100, windows: 200, alpha: level }) !== null) rejected++;
    }
    console.log(`A/A log-shift at α ${level}, 1% share, heavy tails: ${rejected}/${runs}`);
    expect(rejected / runs).toBeLessThanOrEqual(level + 3 * Math.sqrt((level * (1 - level)) / runs));
  });

  it('a canary slower by less than the absolute tolerance is not a regression', () => {
    // A sub-millisecond service (0.3 ms) whose canary answers 0.2 ms later: a 67% shift in ratio.
    const random = new SeededRandom(5);
    const fast: LogLatency = (r) => Math.log(0.3) + 0.4 * sampleNormal(r);
    const slower: LogLatency = (r, t) => Math.log(Math.exp(fast(r, t)) + 0.2);
    let rejected = 0;
    for (let s = 0; s < 200; s++) {
      let state = seedLogShiftTest(
        initialLogShiftTest({ alpha: 0.05, absoluteTolerance: 0.25 }),
        draw(random, 200, fast, -1),
      );
      for (let t = 0; t < 60 && state.worseAfter === null; t++) {
        state = updateLogShiftTest(state, {
          canary: draw(random, 20, slower, t),
          stable: draw(random, 180, fast, t),
        });
      }
      if (state.worseAfter !== null) rejected++;
    }
    expect(rejected).toBe(0);
  });
});

describe('power against the normal-theory oracle (α 0.01, β 0.05, equal shares)', () => {
  for (const [ratio, sigmaLog, rate] of [
    [1.1, 0.5, 40],
    [1.05, 1.0, 200],
  ] as const) {
    it(`+${Math.round((ratio - 1) * 100)}% at σ_log ${sigmaLog}: within 1.6 × the oracle's pairs`, () => {
      const random = new SeededRandom(909);
      const oracle = sprtExpectedSamples({
        alpha: 0.01,
        beta: 0.05,
        kl: klLogNormalRatio(ratio, sigmaLog, 'pair'),
      });
      const world: LogLatency = (r) => LN50 + sigmaLog * sampleNormal(r);
      const detected: number[] = [];
      for (let s = 0; s < 300; s++) {
        const found = stream(random, {
          world,
          share: 0.5,
          rate,
          windows: 2000,
          alpha: 0.01,
          shift: Math.log(ratio),
        });
        detected.push(found ?? Number.POSITIVE_INFINITY);
      }
      const measured = median(detected) / oracle;
      console.log(
        `log-shift +${Math.round((ratio - 1) * 100)}% σ=${sigmaLog}: median ${median(detected)} pairs vs oracle ${oracle.toFixed(0)} = ${measured.toFixed(2)}×`,
      );
      expect(measured).toBeLessThanOrEqual(1.6);
    });
  }
});

describe('persistence, configuration and properties', () => {
  it('a JSON round-trip mid-stream changes no decision', () => {
    const random = new SeededRandom(9);
    const world: LogLatency = (r) => LN50 + 0.5 * sampleNormal(r);
    let straight = seedLogShiftTest(initialLogShiftTest({ alpha: 0.01 }), draw(random, 100, world, 0));
    let resumed = straight;
    for (let t = 0; t < 20; t++) {
      const window = {
        canary: draw(random, 7, world, t, 0.2),
        stable: draw(random, 93, world, t),
        stratum: 700,
      };
      straight = updateLogShiftTest(straight, window);
      resumed = updateLogShiftTest(resumed, window);
      const restored = restoreTestState(JSON.parse(JSON.stringify(resumed)));
      if (!restored.ok || restored.value.kind !== 'log-shift') throw new Error('did not restore');
      resumed = restored.value;
      expect(decideLogShiftTest(resumed)).toEqual(decideLogShiftTest(straight));
    }
    expect(decideLogShiftTest(straight).status).toBe('worse');
  });

  it('refuses broken states and configurations', () => {
    const state = initialLogShiftTest({ alpha: 0.01 });
    expect(restoreTestState({ ...state, minBatch: 1 }).ok).toBe(false);
    expect(restoreTestState({ ...state, worse: { ...state.worse, logLR: [0] } }).ok).toBe(false);
    expect(
      restoreTestState({ ...state, pending: { ...state.pending, canary: { n: -1, sum: 0, sumSq: 0 } } }).ok,
    ).toBe(false);
    expect(() => initialLogShiftTest({ alpha: 0 })).toThrow(RangeError);
    expect(() => initialLogShiftTest({ alpha: 0.01, relativeTolerance: -0.1 })).toThrow(RangeError);
    expect(() => initialLogShiftTest({ alpha: 0.01, relativeTolerance: 0.2, margin: 1.1 })).toThrow(
      RangeError,
    );
    expect(() => initialLogShiftTest({ alpha: 0.01, minBatch: 1 })).toThrow(RangeError);
    expect(() =>
      updateLogShiftTest(state, { canary: { n: 0, sum: 1, sumSq: 1 }, stable: { n: 0, sum: 0, sumSq: 0 } }),
    ).toThrow(RangeError);
    expect(() =>
      updateLogShiftTest(state, { canary: { n: 1.5, sum: 1, sumSq: 1 }, stable: { n: 0, sum: 0, sumSq: 0 } }),
    ).toThrow(RangeError);
  });

  it('the tolerance is ln(1 + max(δ, a / g)) at the stable’s geometric mean of earlier data', () => {
    const state = seedLogShiftTest(
      initialLogShiftTest({ alpha: 0.01, relativeTolerance: 0.01, absoluteTolerance: 0.25 }),
      logMoments([0.5, 0.5, 2, 2]),
    );
    expect(logShiftTolerance(state)).toBeCloseTo(Math.log1p(0.25), 12);
    const slow = seedLogShiftTest(
      initialLogShiftTest({ alpha: 0.01, relativeTolerance: 0.01, absoluteTolerance: 0.25 }),
      logMoments([100, 100]),
    );
    expect(logShiftTolerance(slow)).toBeCloseTo(Math.log1p(0.01), 12);
  });

  /** Windows of latencies where the canary's are the stable's first ones scaled by `factors`. */
  const windows = fc.array(
    fc.record({
      stable: fc.array(fc.double({ min: 0.01, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 40 }),
      factor: fc.double({ min: 0.05, max: 1, noNaN: true }),
      stratum: fc.constantFrom(100, 500),
    }),
    { maxLength: 25 },
  );

  it('one-sided: a canary never slower than the stable builds no evidence of "worse"', () => {
    fc.assert(
      fc.property(windows, (ws) => {
        // Equal counts and every canary request faster: each batch's mean difference is ≤ 0.
        let state: LogShiftState = initialLogShiftTest({ alpha: 0.5, minBatch: 2 });
        for (const w of ws) {
          const canary = logMoments(w.stable.map((x) => x * w.factor));
          state = updateLogShiftTest(state, { canary, stable: logMoments(w.stable), stratum: w.stratum });
          expect(decideLogShiftTest(state).logEWorse).toBeLessThanOrEqual(1e-9);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('e-values stay finite, the state stays JSON, and one batch adds at most ½·4² nats', () => {
    fc.assert(
      fc.property(windows, fc.double({ min: 0.01, max: 100, noNaN: true }), (ws, slowdown) => {
        let state: LogShiftState = initialLogShiftTest({ alpha: 0.01, minBatch: 2 });
        for (const w of ws) {
          const before = decideLogShiftTest(state).logEWorse;
          const canary = logMoments(w.stable.map((x) => x * slowdown));
          state = updateLogShiftTest(state, { canary, stable: logMoments(w.stable), stratum: w.stratum });
          const v = decideLogShiftTest(state);
          expect(Number.isFinite(v.logEWorse) && Number.isFinite(v.logENotWorse)).toBe(true);
          expect(v.logEWorse - before).toBeLessThanOrEqual(8 + 1e-9);
        }
        expect(restoreTestState(JSON.parse(JSON.stringify(state))).ok).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
