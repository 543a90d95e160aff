import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.js';
import { restoreTestState } from './persist.js';
import { decideRangeTest, initialRangeTest, tailProbability, updateRangeTest } from './range.js';
import { median, sampleNormal } from './simulate.js';

// A 90% central range of a normal(100, 10) metric: [100 − 16.45, 100 + 16.45].
const Z90 = 1.6448536269514722;
const range = { low: 100 - 10 * Z90, high: 100 + 10 * Z90, confidence: 0.9 };

function windows(random: SeededRandom, n: number, mean: number): number[] {
  return Array.from({ length: n }, () => mean + 10 * sampleNormal(random));
}

describe('observation vs predicted range', () => {
  it('takes the tail on the harmful side', () => {
    expect(tailProbability(range)).toBeCloseTo(0.05, 15);
    expect(tailProbability({ ...range, kind: 'one-sided' })).toBeCloseTo(0.1, 15);
    expect(() => tailProbability({ low: 2, high: 1, confidence: 0.9 })).toThrow(RangeError);
  });

  it('A/A: a calibrated prediction, checked every window, deviates in ≤ α of streams', () => {
    const random = new SeededRandom(1001);
    const streams = 2000;
    let deviated = 0;
    for (let s = 0; s < streams; s++) {
      let state = initialRangeTest({ range, alpha: 0.05 });
      for (let w = 0; w < 300; w++) {
        state = updateRangeTest(state, windows(random, 1, 100));
        if (state.counts.breachedAfter !== null) break;
      }
      if (state.counts.breachedAfter !== null) deviated++;
    }
    console.log(`A/A range test: ${deviated}/${streams}`);
    expect(deviated / streams).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / streams));
  });

  it('a metric one σ above the prediction deviates within a couple of dozen windows', () => {
    const random = new SeededRandom(1002);
    const found: number[] = [];
    for (let s = 0; s < 300; s++) {
      let state = initialRangeTest({ range, alpha: 0.05 });
      for (let w = 0; w < 500 && state.counts.breachedAfter === null; w++) {
        state = updateRangeTest(state, windows(random, 1, 110));
      }
      found.push(state.counts.breachedAfter ?? Infinity);
    }
    console.log(`range test, metric +1σ: median ${median(found)} windows to deviate`);
    expect(median(found)).toBeLessThan(40);
  });

  it('watches the low edge when that is the harmful one, and confirms a consistent metric', () => {
    const random = new SeededRandom(1003);
    let low = initialRangeTest({ range, alpha: 0.05, harmful: 'below' });
    let ok = initialRangeTest({ range, alpha: 0.05 });
    for (let w = 0; w < 200; w++) {
      low = updateRangeTest(low, windows(random, 1, 85));
      ok = updateRangeTest(ok, windows(random, 1, 90));
    }
    expect(decideRangeTest(low).status).toBe('deviates');
    expect(decideRangeTest(ok).status).toBe('consistent');
  });

  it('survives a JSON round-trip', () => {
    const random = new SeededRandom(1004);
    let state = updateRangeTest(initialRangeTest({ range, alpha: 0.05 }), windows(random, 12, 112));
    const restored = restoreTestState(JSON.parse(JSON.stringify(state)));
    if (!restored.ok || restored.value.kind !== 'range') throw new Error('did not restore');
    const more = windows(random, 12, 112);
    state = updateRangeTest(state, more);
    expect(decideRangeTest(updateRangeTest(restored.value, more))).toEqual(decideRangeTest(state));
  });
});
