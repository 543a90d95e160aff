import { z } from 'zod';
import { type Result, err, ok } from '../core/result.js';
import type { LimitTestState } from './bernoulli.js';
import type { LogShiftState } from './log-shift.js';
import { type MixtureSide, type OddsRatioMixture, checkMixture } from './mixture.js';
import type { ProportionTestState } from './proportions.js';
import type { RangeTestState } from './range.js';
import type { RateRatioState } from './rate-ratio.js';

/**
 * Every test's state is plain JSON data (finite numbers, arrays, null), so the controller persists
 * it as is and resumes after a crash from the last state it wrote. Restoring checks the shape and
 * the mixtures again: a hand-edited or truncated record must not become a test that quietly
 * accepts everything.
 */
export type TestState =
  LimitTestState | RateRatioState | ProportionTestState | LogShiftState | RangeTestState;

const count = z.number().finite().nonnegative();
const level = z.number().gt(0).lt(1);
const positive = z.number().finite().positive();
const mixture = z.object({ ratios: z.array(positive).min(1), weights: z.array(positive).min(1) }).strict();
const side = z.object({ mixture, logLR: z.array(z.number().finite()) }).strict();
const after = count.nullable();

const limit = z
  .object({
    kind: z.literal('limit'),
    limit: level,
    alpha: level,
    promotionAlpha: level.optional(),
    breach: mixture,
    within: mixture,
    trials: count,
    events: count,
    breachedAfter: after,
  })
  .strict();

const rateRatio = z
  .object({
    kind: z.literal('rate-ratio'),
    alpha: level,
    tolerance: positive,
    margin: positive,
    worse: side,
    notWorse: side,
    canaryEvents: count,
    stableEvents: count,
    worseAfter: after,
  })
  .strict();

const proportions = z
  .object({
    kind: z.literal('proportions'),
    alpha: level,
    tolerance: positive,
    margin: positive,
    worse: side,
    notWorse: side,
    canaryRequests: count,
    canaryEvents: count,
    stableRequests: count,
    stableEvents: count,
    worseAfter: after,
  })
  .strict();

const moments = z.object({ n: count, sum: z.number().finite(), sumSq: count }).strict();
const history = z.object({ n: count, sum: z.number().finite(), ss: count, df: count }).strict();

const logShift = z
  .object({
    kind: z.literal('log-shift'),
    alpha: level,
    relativeTolerance: count,
    absoluteTolerance: count,
    margin: positive,
    minBatch: z.number().int().min(2),
    worse: side,
    notWorse: side,
    canary: history,
    stable: history,
    pending: z.object({ canary: moments, stable: moments, stratum: z.number().finite().nullable() }).strict(),
    batches: count,
    worseAfter: after,
  })
  .strict();

const range = z
  .object({
    kind: z.literal('range'),
    range: z
      .object({
        low: z.number().finite(),
        high: z.number().finite(),
        confidence: level,
        kind: z.enum(['central', 'one-sided']).optional(),
      })
      .strict(),
    harmful: z.enum(['above', 'below']),
    counts: limit,
  })
  .strict();

const schema = z.discriminatedUnion('kind', [limit, rateRatio, proportions, logShift, range]);

/** A test state from parsed JSON, or why it cannot be one. */
export function restoreTestState(json: unknown): Result<TestState, string> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(`invalid test state at ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'unknown'}`);
  }
  // zod types an optional key as `T | undefined`, which exactOptionalPropertyTypes keeps apart.
  const state = parsed.data as TestState;
  try {
    for (const [m, sideName] of mixturesOf(state)) checkMixture(m, sideName);
    for (const s of sidesOf(state)) {
      if (s.logLR.length !== s.mixture.ratios.length) throw new RangeError('one ln LR per alternative');
    }
  } catch (e) {
    return err(`invalid test state: ${e instanceof Error ? e.message : String(e)}`);
  }
  return ok(state);
}

function sidesOf(state: TestState): MixtureSide[] {
  return state.kind === 'rate-ratio' || state.kind === 'proportions' || state.kind === 'log-shift'
    ? [state.worse, state.notWorse]
    : [];
}

function mixturesOf(state: TestState): [OddsRatioMixture, 'above' | 'below'][] {
  switch (state.kind) {
    case 'limit':
      return [
        [state.breach, 'above'],
        [state.within, 'below'],
      ];
    case 'range':
      return mixturesOf(state.counts);
    case 'rate-ratio':
    case 'proportions':
    case 'log-shift':
      return [
        [state.worse.mixture, 'above'],
        [state.notWorse.mixture, 'below'],
      ];
  }
}
