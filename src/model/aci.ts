import { type Frame, type Interval, conformityScore, frameRange, sidedScores, widen } from './cqr.js';
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
    this.step(score, covered);
    return { covered, score, interval, alphaT: this.alphaNow };
  }

  /**
   * Records a score computed elsewhere (one side of a two-sided range, say): covered when it is
   * within the current widening. Updates αₜ and adds the score to the window.
   */
  record(score: number): { readonly covered: boolean; readonly alphaT: number } {
    const covered = score <= this.scoreQuantile();
    this.step(score, covered);
    return { covered, alphaT: this.alphaNow };
  }

  private step(score: number, covered: boolean): void {
    // For αₜ ≥ 1 the set of Gibbs & Candès is empty, so it counts as a miss here too: αₜ then
    // moves exactly as theirs does, and their bound holds for our (larger) intervals.
    const miss = !covered || this.alphaNow >= 1;
    this.alphaNow += this.gamma * (this.alpha - (miss ? 1 : 0));
    this.stepCount += 1;
    if (!covered) this.missCount += 1;
    this.remember(score);
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

/** Both sides' adaptive states, as plain JSON. */
export interface SidedAciState {
  readonly kind: 'aci-sided';
  readonly below: AciState;
  readonly above: AciState;
}

export interface SidedAciOptions extends Omit<AciOptions, 'initialScores'> {
  /** Scores to start each side from (e.g. a CQR model's calibration scores). */
  readonly initialScores?: { readonly below: readonly number[]; readonly above: readonly number[] };
}

/**
 * Adaptive conformal inference on each side of a frame (CqrModel): the scores below and above the
 * centre each run their own αₜ at α/2, so a drift that lifts a metric widens the range above it
 * without widening it below. Each side's long-run miss rate approaches α/2 (the bound above holds
 * per side), so the range's approaches at most α.
 */
export class SidedConformal {
  readonly below: AdaptiveConformal;
  readonly above: AdaptiveConformal;

  private constructor(below: AdaptiveConformal, above: AdaptiveConformal) {
    this.below = below;
    this.above = above;
  }

  static create(options: SidedAciOptions = {}): SidedConformal {
    const { initialScores, ...rest } = options;
    const half = { ...rest, alpha: (options.alpha ?? 0.1) / 2 };
    return new SidedConformal(
      new AdaptiveConformal({ ...half, initialScores: initialScores?.below ?? [] }),
      new AdaptiveConformal({ ...half, initialScores: initialScores?.above ?? [] }),
    );
  }

  /** Restores a state written by toJSON (checked per side). */
  static fromJSON(state: SidedAciState): SidedConformal {
    if (state.kind !== 'aci-sided') throw new RangeError(`invalid aci state: kind ${String(state.kind)}`);
    return new SidedConformal(
      AdaptiveConformal.fromJSON(state.below),
      AdaptiveConformal.fromJSON(state.above),
    );
  }

  /** The range for the next observation in `frame` (unbounded on a side with too few scores). */
  interval(frame: Frame): Interval {
    return frameRange(frame, this.below.scoreQuantile(), this.above.scoreQuantile());
  }

  /** The range widened by the largest scores seen on each side: the widest the window allows. */
  widest(frame: Frame): Interval {
    return frameRange(frame, this.below.largestScore(), this.above.largestScore());
  }

  /** Records the outcome y of an observation in `frame`; covered when inside `interval(frame)`. */
  update(frame: Frame, y: number): { readonly covered: boolean } {
    if (!Number.isFinite(y)) throw new RangeError(`observation must be finite (got ${y})`);
    const scores = sidedScores(frame, y);
    const below = this.below.record(scores.below);
    const above = this.above.record(scores.above);
    return { covered: below.covered && above.covered };
  }

  toJSON(): SidedAciState {
    return { kind: 'aci-sided', below: this.below.toJSON(), above: this.above.toJSON() };
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
