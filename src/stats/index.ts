/**
 * Sequential statistics: anytime-valid, one-sided tests for the rollout controller. Each test is
 * plain data (`initial…`), a pure `update…(state, batch)` and a pure `decide…(state)`; see
 * docs/statistics.md for the tests, the α budget and the measured cost against Wald's SPRT.
 */
export { ROLLBACK_TESTS, logThreshold, splitAlpha } from './alpha.js';
export type { AlphaPlan, AlphaSplit } from './alpha.js';
export {
  countAbove,
  decideLimitTest,
  initialLimitTest,
  limitBounds,
  limitEvidence,
  oddsRatio,
  updateLimitTest,
} from './bernoulli.js';
export type { LimitBatch, LimitStatus, LimitTestConfig, LimitTestState, LimitVerdict } from './bernoulli.js';
export { exceedanceBatch, exceedanceLimit, pooledThreshold, shiftOddsRatio } from './latency.js';
export {
  LATENCY_SHIFTS,
  decideLogShiftTest,
  initialLogShiftTest,
  logMoments,
  logShiftEstimate,
  logShiftTolerance,
  seedLogShiftTest,
  updateLogShiftTest,
} from './log-shift.js';
export type { LogMoments, LogShiftConfig, LogShiftState, LogShiftWindow } from './log-shift.js';
export { designMixture } from './mixture.js';
export type { MixtureSide, OddsRatioMixture } from './mixture.js';
export { dirichletMultinomialLogBF, oneSidedBetaLogBF } from './multinomial.js';
export { restoreTestState } from './persist.js';
export type { TestState } from './persist.js';
export {
  DEFAULT_PROPORTION_DESIGN,
  decideProportionTest,
  initialProportionTest,
  updateProportionTest,
} from './proportions.js';
export type { ProportionBatch, ProportionTestConfig, ProportionTestState } from './proportions.js';
export { decideRangeTest, initialRangeTest, tailProbability, updateRangeTest } from './range.js';
export type { PredictedRange, RangeStatus, RangeTestConfig, RangeTestState, RangeVerdict } from './range.js';
export {
  ERROR_REGRESSION_MIXTURE,
  canaryEventProbability,
  decideRateRatio,
  initialRateRatio,
  rateRatioBatch,
  updateRateRatio,
} from './rate-ratio.js';
export type {
  RateRatioBatch,
  RateRatioConfig,
  RateRatioState,
  RegressionStatus,
  RegressionVerdict,
} from './rate-ratio.js';
export {
  klBernoulli,
  klLogNormalRatio,
  klNormalShift,
  klRelativeRate,
  sprtExpectedSamples,
  sprtThresholds,
} from './sprt.js';
export { median, sampleBinomial, sampleNormal } from './simulate.js';
