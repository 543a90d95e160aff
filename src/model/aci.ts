import { type Interval, conformityScore, widen } from './cqr.js';
import { ceilTolerant } from './matrix.js';

export interface AciOptions {
  /** Target miscoverage α; default 0.1. */
  readonly alpha?: number;
  /** Step γ of the update αₜ₊₁ = αₜ + γ(α − errₜ); default 0.005 (Gibbs & Candès' choice). */
  readonly gamma?: number;
  /** Most recent conformity scores kept; default 500. */
  readonly window?: number;
  /** Scores to start from (e.g. a CQR model's calibration scores, oldest first). */
  readonly initialScores?: readonly number[];
}

/** Everything an AdaptiveConformal is, as plain JSON: restoring it resumes exactly. */
export interface AciState {
  readonly kind: 'aci';
  readonly alpha: number;
  readonly gamma: number;
  readonly window: number;
  /** The current working miscoverage αₜ (may leave [0, 1]). */
  readonly alphaT: number;
  /** The window's scores, oldest first. */
  readonly scores: readonly number[];
  /** Observations seen and how many fell outside their interval. */
  readonly steps: number;
  readonly misses: number;
}

export interface AciStep {
  readonly covered: boolean;
  readonly score: number;
  /** The interval y was judged against (the one `interval(base)` gave before this update). */
  readonly interval: Interval;
  /** αₜ₊₁. */
  readonly alphaT: number;
}

/**
 * Adaptive conformal inference (Gibbs & Candès 2021) over conformity scores. The interval at
 * time t widens the base interval by the conformal quantile of the recent scores at level
 * 1 − αₜ; after y arrives, αₜ₊₁ = αₜ + γ(α − errₜ), errₜ = 1 when y fell outside. Misses lower
 * αₜ (wider intervals), covers raise it a little, so the long-run miss rate approaches α even
 * when the data drift: over T steps |mean(err) − α| ≤ (max(α₁, 1 − α₁) + γ)/(γT), for any
 * sequence. When the rank ⌈(n+1)(1−αₜ)⌉ exceeds the n scores (αₜ near or below 0) the
 * interval is unbounded (−∞, ∞). It is never empty: for αₜ ≥ 1, where theirs is, the narrowest
 * (widened by the smallest score) is returned and the step counts as a miss for the update.
 */
export class AdaptiveConformal {
  readonly alpha: number;
  readonly gamma: number;
  readonly window: number;
  private alphaNow: number;
  private readonly recent: number[];
  private readonly sorted: number[];
  private stepCount: number;
  private missCount: number;

  constructor(options: AciOptions = {}) {
    this.alpha = options.alpha ?? 0.1;
    this.gamma = options.gamma ?? 0.005;
    this.window = options.window ?? 500;
    if (!(this.alpha > 0 && this.alpha < 1))
      throw new RangeError(`alpha must be in (0, 1) (got ${this.alpha})`);
    if (!(this.gamma > 0 && this.gamma < 1))
      throw new RangeError(`gamma must be in (0, 1) (got ${this.gamma})`);
    if (!(Number.isInteger(this.window) && this.window >= 1))
      throw new RangeError(`window must be a whole number ≥ 1 (got ${this.window})`);
    this.alphaNow = this.alpha;
    this.recent = [];
    this.sorted = [];
    this.stepCount = 0;
    this.missCount = 0;
    for (const s of options.initialScores ?? []) this.remember(s);
  }

  /** Restores a state written by toJSON (checked: a damaged record is refused, not trusted). */
  static fromJSON(state: AciState): AdaptiveConformal {
    const fail = (what: string): never => {
      throw new RangeError(`invalid aci state: ${what}`);
    };
    if (state.kind !== 'aci') fail(`kind ${String(state.kind)}`);
    if (!Number.isFinite(state.alphaT)) fail('alphaT is not finite');
    if (!state.scores.every(Number.isFinite)) fail('a score is not finite');
    if (state.scores.length > state.window) fail('more scores than the window holds');
    if (!(Number.isInteger(state.steps) && Number.isInteger(state.misses) && state.misses >= 0))
      fail('steps/misses');
    if (state.misses > state.steps) fail('more misses than steps');
    const aci = new AdaptiveConformal({
      alpha: state.alpha,
      gamma: state.gamma,
      window: state.window,
      initialScores: state.scores,
    });
    aci.alphaNow = state.alphaT;
    aci.stepCount = state.steps;
    aci.missCount = state.misses;
    return aci;
  }

  get alphaT(): number {
    return this.alphaNow;
  }

  /** Share of observations so far that fell outside their interval (NaN before any). */
  get missRate(): number {
    return this.missCount / this.stepCount;
  }

  /** The current widening: the ⌈(n+1)(1−αₜ)⌉-th smallest of the n recent scores. */
  scoreQuantile(): number {
    const n = this.sorted.length;
    if (n === 0) return Infinity;
    const rank = ceilTolerant((n + 1) * (1 - this.alphaNow));
    if (rank > n) return Infinity;
    return this.sorted[Math.max(1, rank) - 1] as number;
  }

  /** The largest score in the window (−∞ when empty): the widest widening seen. */
  largestScore(): number {
    return this.sorted.length === 0 ? -Infinity : (this.sorted[this.sorted.length - 1] as number);
  }

  /** The interval for the next observation, given the base interval of its features. */
  interval(base: Interval): Interval {
    const q = this.scoreQuantile();
    return q === Infinity ? { low: -Infinity, high: Infinity } : widen(base, q);
  }

  /**
   * Records the outcome y for the observation whose base interval is `base`: judges it against
   * `interval(base)`, updates αₜ and adds its score to the window.
   */
  update(base: Interval, y: number): AciStep {
    if (!Number.isFinite(y)) throw new RangeError(`observation must be finite (got ${y})`);
    const interval = this.interval(base);
    const covered = y >= interval.low && y <= interval.high;
    const score = conformityScore(base, y);
    // For αₜ ≥ 1 the set of Gibbs & Candès is empty, so it counts as a miss here too: αₜ then
    // moves exactly as theirs does, and their bound holds for our (larger) intervals.
    const miss = !covered || this.alphaNow >= 1;
    this.alphaNow += this.gamma * (this.alpha - (miss ? 1 : 0));
    this.stepCount += 1;
    if (!covered) this.missCount += 1;
    this.remember(score);
    return { covered, score, interval, alphaT: this.alphaNow };
  }

  toJSON(): AciState {
    return {
      kind: 'aci',
      alpha: this.alpha,
      gamma: this.gamma,
      window: this.window,
      alphaT: this.alphaNow,
      scores: [...this.recent],
      steps: this.stepCount,
      misses: this.missCount,
    };
  }

  private remember(score: number): void {
    if (!Number.isFinite(score)) throw new RangeError(`score must be finite (got ${score})`);
    this.recent.push(score);
    this.sorted.splice(upperBound(this.sorted, score), 0, score);
    if (this.recent.length > this.window) {
      const oldest = this.recent.shift() as number;
      this.sorted.splice(upperBound(this.sorted, oldest) - 1, 1);
    }
  }
}

/** First index whose value exceeds v (sorted ascending). */
function upperBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
