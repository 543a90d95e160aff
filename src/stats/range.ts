import {
  type LimitTestState,
  type LimitVerdict,
  decideLimitTest,
  initialLimitTest,
  updateLimitTest,
} from './bernoulli.js';
import { checkProbability } from './checks.js';

/**
 * Observation vs predicted range. A range [low, high] predicted at confidence c says an observation
 * (one monitoring window's value of the metric) falls beyond `high` with probability at most
 * (1 − c)/2 for a central range, 1 − c for an upper bound. Counting windows beyond the harmful edge
 * turns "the release behaves worse than predicted" into the one-sided Bernoulli test of bernoulli.ts,
 * with that tail probability as the limit: a calibrated prediction is the null.
 *
 * The windows are treated as independent draws from the prediction; consecutive windows of a real
 * service are correlated, which is one more reason this test only pauses (YELLOW) and never rolls
 * back. To see a deviation clear, the controller starts a fresh test when it resumes.
 */
export interface PredictedRange {
  readonly low: number;
  readonly high: number;
  /** Nominal coverage of the range, in (0, 1). */
  readonly confidence: number;
  /** 'central' (default): each side holds (1 − c)/2; 'one-sided': the harmful side holds 1 − c. */
  readonly kind?: 'central' | 'one-sided';
}

export interface RangeTestConfig {
  readonly range: PredictedRange;
  readonly alpha: number;
  /** Which edge is harmful: 'above' `high` (latency, errors, CPU) by default, or 'below' `low`. */
  readonly harmful?: 'above' | 'below';
}

export interface RangeTestState {
  readonly kind: 'range';
  readonly range: PredictedRange;
  readonly harmful: 'above' | 'below';
  readonly counts: LimitTestState;
}

export type RangeStatus = 'deviates' | 'consistent' | 'undecided';

export interface RangeVerdict {
  readonly status: RangeStatus;
  /** Nominal probability of a window beyond the harmful edge. */
  readonly tailProbability: number;
  readonly windows: number;
  readonly beyond: number;
  readonly counts: LimitVerdict;
}

export function tailProbability(range: PredictedRange): number {
  checkProbability(range.confidence, 'confidence');
  if (!(range.confidence > 0 && range.confidence < 1)) throw new RangeError('confidence must be in (0, 1)');
  if (!(range.low <= range.high)) throw new RangeError(`range low ${range.low} > high ${range.high}`);
  return range.kind === 'one-sided' ? 1 - range.confidence : (1 - range.confidence) / 2;
}

export function initialRangeTest(config: RangeTestConfig): RangeTestState {
  const limit = tailProbability(config.range);
  return {
    kind: 'range',
    range: config.range,
    harmful: config.harmful ?? 'above',
    counts: initialLimitTest({ limit, alpha: config.alpha }),
  };
}

/** Adds the observed values of this tick's windows. */
export function updateRangeTest(state: RangeTestState, observed: readonly number[]): RangeTestState {
  const beyond = observed.filter((v) =>
    state.harmful === 'above' ? v > state.range.high : v < state.range.low,
  ).length;
  return { ...state, counts: updateLimitTest(state.counts, { trials: observed.length, events: beyond }) };
}

export function decideRangeTest(state: RangeTestState): RangeVerdict {
  const counts = decideLimitTest(state.counts);
  const status: RangeStatus =
    counts.status === 'breach' ? 'deviates' : counts.status === 'within' ? 'consistent' : 'undecided';
  return {
    status,
    tailProbability: state.counts.limit,
    windows: counts.trials,
    beyond: counts.events,
    counts,
  };
}
