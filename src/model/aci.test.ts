import { describe, expect, it } from 'vitest';
import { AdaptiveConformal, SidedConformal } from './aci.js';
import { fitCqr } from './cqr.js';
import { rowOf, synthetic } from './test-fixtures.js';

describe('AdaptiveConformal', () => {
  // A CQR model trained on calm data, then 1,000 calm points and 2,000 after the noise doubles.
  const model = fitCqr(synthetic(4_000, 5), { alpha: 0.1, calibrationFraction: 0.5, seed: 1 });
  const before = synthetic(1_000, 6);
  const after = synthetic(2_000, 7, { noiseScale: 2 });

  function stream(aci: SidedConformal): {
    staticBefore: number;
    staticAfter: number;
    before: number;
    after: number;
  } {
    const covered = { staticBefore: 0, staticAfter: 0, before: 0, after: 0 };
    for (const [data, shifted] of [
      [before, false],
      [after, true],
    ] as const) {
      for (let r = 0; r < data.rows; r++) {
        const x = rowOf(data, r);
        const y = data.y[r] as number;
        const fixed = model.interval(x);
        const inFixed = y >= fixed.low && y <= fixed.high ? 1 : 0;
        const step = aci.update(model.frame(x), y);
        if (shifted) {
          covered.staticAfter += inFixed;
          covered.after += step.covered ? 1 : 0;
        } else {
          covered.staticBefore += inFixed;
          covered.before += step.covered ? 1 : 0;
        }
      }
    }
    return {
      staticBefore: covered.staticBefore / before.rows,
      staticAfter: covered.staticAfter / after.rows,
      before: covered.before / before.rows,
      after: covered.after / after.rows,
    };
  }

  it('recovers 90% coverage after the noise doubles, where static conformal drops', () => {
    const aci = SidedConformal.create({ alpha: 0.1, initialScores: model.scores });
    const found = stream(aci);
    // Measured: static 0.892 → 0.675; adaptive 0.904 → 0.897.
    expect(found.staticBefore).toBeGreaterThan(0.87);
    expect(found.staticAfter).toBeLessThan(0.75);
    expect(found.before).toBeGreaterThan(0.87);
    expect(found.after).toBeGreaterThanOrEqual(0.87);
    // Gibbs & Candès' bound per side (α/2 each) over all 3,000 steps:
    // |misses/T − α/2| ≤ (max(α₁, 1−α₁) + γ)/(γT) ≈ 0.064.
    for (const side of [aci.below, aci.above]) {
      expect(side.alpha).toBe(0.05);
      expect(Math.abs(side.missRate - 0.05)).toBeLessThanOrEqual((0.95 + 0.005) / (0.005 * 3_000));
    }
  });

  it('keeps its long-run miss rate near α even on an adversarial sequence', () => {
    // Base interval [0, 1]; observations alternate long runs inside and far outside. αₜ stays in
    // [−γ, 1 + γ] (Gibbs & Candès, Lemma 4.1), which bounds the mean of their errₜ (a miss, or
    // αₜ ≥ 1 where their set is empty) within (max(α₁, 1−α₁) + γ)/(γT) of α; our intervals are
    // never empty, so our own miss rate can only be lower.
    const gamma = 0.05;
    const aci = new AdaptiveConformal({ alpha: 0.2, gamma, window: 50 });
    const T = 4_000;
    let errors = 0;
    for (let t = 0; t < T; t++) {
      const emptyForThem = aci.alphaT >= 1;
      const step = aci.update({ low: 0, high: 1 }, Math.floor(t / 300) % 2 === 0 ? 0.5 : 5 + (t % 7));
      if (!step.covered || emptyForThem) errors++;
      expect(step.alphaT).toBeGreaterThanOrEqual(-gamma);
      expect(step.alphaT).toBeLessThanOrEqual(1 + gamma);
    }
    const bound = (0.8 + gamma) / (gamma * T);
    expect(Math.abs(errors / T - 0.2)).toBeLessThanOrEqual(bound);
    expect(aci.missRate).toBeLessThanOrEqual(0.2 + bound);
  });

  it('resumes exactly from its JSON state (a restart changes nothing)', () => {
    const a = SidedConformal.create({ alpha: 0.1, window: 200, initialScores: model.scores });
    for (let r = 0; r < 300; r++) a.update(model.frame(rowOf(after, r)), after.y[r] as number);
    const b = SidedConformal.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<typeof a.toJSON>);
    expect(b.toJSON()).toEqual(a.toJSON());
    for (let r = 300; r < 600; r++) {
      const frame = model.frame(rowOf(after, r));
      expect(b.interval(frame)).toEqual(a.interval(frame));
      expect(b.update(frame, after.y[r] as number)).toEqual(a.update(frame, after.y[r] as number));
    }
    expect(a.toJSON().below.scores).toHaveLength(200);
    expect(() => AdaptiveConformal.fromJSON({ ...a.toJSON().above, misses: 10_000 })).toThrow(/more misses/);
  });

  it('widens only the side a drift pushes against', () => {
    // Frame centre 0, scale 1; both sides start from the same 40 scores, ±(0.1 … 4.0).
    const start = Array.from({ length: 40 }, (_, i) => (i + 1) / 10);
    const aci = SidedConformal.create({
      alpha: 0.1,
      gamma: 0.02,
      initialScores: { below: start, above: start },
    });
    const frame = { centre: 0, scale: 1 };
    const first = aci.interval(frame);
    // The α/2 = 5% quantile of 40 scores: rank ⌈41 × 0.95⌉ = 39, i.e. 3.9 on both sides.
    expect(first.low).toBeCloseTo(-3.9, 12);
    expect(first.high).toBeCloseTo(3.9, 12);
    // Everything now lands 6 above the centre: the upper bound moves out after a few misses, the
    // lower one in (its scores, −6, are far inside).
    for (let t = 0; t < 60; t++) aci.update(frame, 6);
    const later = aci.interval(frame);
    expect(later.high).toBeGreaterThanOrEqual(6);
    expect(later.low).toBeGreaterThan(first.low);
    expect(aci.above.missRate).toBeGreaterThan(0);
    expect(aci.below.missRate).toBe(0);
  });

  it('counts a score at the current widening as covered (record)', () => {
    const aci = new AdaptiveConformal({ alpha: 0.5, gamma: 0.1, initialScores: [1, 2, 3] });
    // Rank ⌈4 × 0.5⌉ = 2: widening 2.
    expect(aci.scoreQuantile()).toBe(2);
    expect(aci.record(2)).toEqual({ covered: true, alphaT: 0.55 });
    expect(aci.record(2.5)).toEqual({ covered: false, alphaT: 0.5 });
  });

  it('is unbounded with too few scores, and follows the hand-computed update', () => {
    const aci = new AdaptiveConformal({ alpha: 0.5, gamma: 0.1, window: 3 });
    expect(aci.interval({ low: 0, high: 1 })).toEqual({ low: -Infinity, high: Infinity }); // no scores yet
    const first = aci.update({ low: 0, high: 1 }, 3); // covered (unbounded); score 2
    expect(first).toEqual({
      covered: true,
      score: 2,
      interval: { low: -Infinity, high: Infinity },
      alphaT: 0.55,
    });
    // one score: rank ⌈2·0.45⌉ = 1 → widen by 2
    expect(aci.interval({ low: 0, high: 1 })).toEqual({ low: -2, high: 3 });
    const second = aci.update({ low: 0, high: 1 }, 4); // outside [−2, 3]: α ← 0.55 + 0.1·(0.5 − 1)
    expect(second.covered).toBe(false);
    expect(second.alphaT).toBeCloseTo(0.5, 12);
    aci.update({ low: 0, high: 1 }, 0.5); // score −0.5
    aci.update({ low: 0, high: 1 }, 1.5); // score 0.5; the window drops the first score (2)
    expect(aci.toJSON().scores).toEqual([3, -0.5, 0.5]);
  });
});
