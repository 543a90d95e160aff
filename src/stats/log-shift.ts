import { checkAlpha, checkCount } from './checks.js';
import {
  type MixtureSide,
  type OddsRatioMixture,
  advanceSide,
  checkMixture,
  emptySide,
  sideLogE,
} from './mixture.js';
import { type RegressionVerdict, regressionVerdict } from './rate-ratio.js';

/**
 * Latency, canary vs stable, on the log scale: is the canary's mean log-latency more than
 * ln(1 + δ) above the stable's? A uniform slowdown R multiplies every latency by R and shifts
 * log-latency by ln R, so this is the comparison Wald's SPRT oracle makes (reference.md §2), and
 * it keeps all the information a shift carries — a median split keeps 2/π of it.
 *
 * Each batch gives the difference of the two revisions' mean log-latencies, D = m_c − m_s, whose
 * variance is V = σ_c²/n_c + σ_s²/n_s. For one alternative shift Δ beyond the null's boundary η,
 * the Gaussian likelihood ratio of the batch is
 *   LR = exp(Δ·(D − η)/v − Δ²/(2v)),
 * and for D ~ N(μ, V) with μ ≤ η and V ≤ v its expectation is exp(Δ(μ − η)/v + Δ²(V − v)/(2v²)) ≤ 1.
 * So the product over batches, and any fixed mixture over Δ of such products, is an e-process as
 * long as v never underestimates the batch's variance and is fixed before the batch is seen:
 * - v comes from earlier batches only (the pooled within-batch variance of each revision, the
 *   canary's shrunk towards and never below the stable's), so it is predictable;
 * - it is then raised to half the batch's own variance estimate when that is larger. Raising v
 *   can only lower every LR, so validity is kept, and a batch with an outlier (a 30-s request in
 *   a 50-ms service) is judged against its own spread instead of rejecting on one request;
 * - a batch needs `minBatch` requests of each revision (windows are pooled until it has them), so
 *   the means are close to normal even when single log-latencies are not;
 * - a batch's standardised excess counts at most Z_CAP towards "worse" (again only lowering LRs).
 * The null boundary η may change every batch when fixed before it: η = ln(1 + max(δ, a / g)), with
 * δ the relative tolerance, a the absolute tolerance (ms) and g the stable's geometric-mean latency
 * over earlier batches. The absolute part keeps a sub-millisecond service whose canary, at a tenth
 * of the load, answers a fraction of a millisecond later from counting as a regression.
 *
 * What the guarantee rests on: batch means close to normal (log-latency with finite variance and
 * `minBatch` requests per batch) and a variance that is stable or drifting slowly between batches.
 * Neither holds exactly; the property tests check A/A false alarms under heavy tails, skew,
 * bimodality, unequal load (1% vs 99%) and variance jumps (log-shift.test.ts).
 */
export interface LogMoments {
  /** Requests whose latency is summed (successful requests). */
  readonly n: number;
  /** Σ ln(latency). */
  readonly sum: number;
  /** Σ ln²(latency). */
  readonly sumSq: number;
}

export interface LogShiftConfig {
  readonly alpha: number;
  /** Relative slowdown tolerated (δ): the null is "canary ≤ (1 + δ) × stable"; default 0. */
  readonly relativeTolerance?: number;
  /** Absolute slowdown tolerated at the stable's geometric-mean latency, in its unit; default 0. */
  readonly absoluteTolerance?: number;
  /** The alternatives: latency ratios beyond the tolerance (> 1) and weights; default LATENCY_SHIFTS. */
  readonly mixture?: OddsRatioMixture;
  /** The "not worse" side rejects "canary ≥ margin × stable"; default 1.1. */
  readonly margin?: number;
  /** Requests of each revision a batch needs before it is tested; default 10. */
  readonly minBatch?: number;
}

/** One revision's data over the batches tested so far. */
export interface RevisionHistory {
  readonly n: number;
  readonly sum: number;
  /** Pooled within-batch sum of squared deviations and its degrees of freedom. */
  readonly ss: number;
  readonly df: number;
}

export interface LogShiftState {
  readonly kind: 'log-shift';
  readonly alpha: number;
  readonly relativeTolerance: number;
  readonly absoluteTolerance: number;
  readonly margin: number;
  readonly minBatch: number;
  /** Against H₀ "shift ≤ η": rejecting means the canary is slower. */
  readonly worse: MixtureSide;
  /** Against H₀ "shift ≥ ln margin": rejecting means the canary is not meaningfully slower. */
  readonly notWorse: MixtureSide;
  readonly canary: RevisionHistory;
  readonly stable: RevisionHistory;
  /** Windows pooled until both revisions have `minBatch` requests; `stratum` is their weight. */
  readonly pending: {
    readonly canary: LogMoments;
    readonly stable: LogMoments;
    readonly stratum: number | null;
  };
  readonly batches: number;
  /** Canary requests tested when the "worse" side first reached 1/α: the verdict stays. */
  readonly worseAfter: number | null;
}

export interface LogShiftWindow {
  readonly canary: LogMoments;
  readonly stable: LogMoments;
  /**
   * Windows are pooled into a batch only within one stratum (the canary's weight): a batch whose
   * windows had different shares would weigh time differently for the two revisions, which biases
   * the difference when latency drifts. Pending windows of another stratum are dropped.
   */
  readonly stratum?: number;
}

/**
 * Latency ratios (beyond the tolerance) the default mixture bets on, and their weights: most on
 * +10% and +25%, the slowdowns a rollout should catch fast, a little on +5%, and a tail to 2.5×. A
 * Gaussian likelihood ratio at shift Δⱼ keeps 2c − c² of the best growth rate for a true shift
 * c·Δⱼ (≥ 90% for c in 0.7–1.3), so few points cover the range; gross slowdowns are caught by the
 * tail within a few batches anyway. Weights measured on bench:detect against denser grids
 * (docs/statistics.md); test/fixtures/stats/generate.py repeats this table.
 */
export const LATENCY_SHIFTS: OddsRatioMixture = normalise([
  [1.05, 0.05],
  [1.1, 0.4],
  [1.25, 0.4],
  [1.5, 0.08],
  [2.5, 0.07],
]);

/** The canary's pooled variance is shrunk towards the stable's as if it had this many more df. */
const CANARY_PRIOR_DF = 20;
/** The batch's own variance estimate, times this, raises v when larger (outliers). */
const OWN_VARIANCE_FACTOR = 0.5;
/**
 * A batch's standardised excess (D − η)/√v counts at most this much towards "worse": one batch can
 * then add at most ½·Z_CAP² = 8 nats to any alternative, which bounds what one transient (a
 * canary's cold start, one burst of slow requests) can contribute. Capping lowers every "worse" LR
 * (they grow with D), so the e-process stays valid; measured, it costs ≤ 3% where batches are
 * large against the shift (+25% at σ 0.5 with 50 canary requests a batch) and nothing elsewhere.
 */
const Z_CAP = 4;

const EMPTY_MOMENTS: LogMoments = { n: 0, sum: 0, sumSq: 0 };
const EMPTY_HISTORY: RevisionHistory = { n: 0, sum: 0, ss: 0, df: 0 };

export function initialLogShiftTest(config: LogShiftConfig): LogShiftState {
  checkAlpha(config.alpha);
  const relativeTolerance = config.relativeTolerance ?? 0;
  const absoluteTolerance = config.absoluteTolerance ?? 0;
  const margin = config.margin ?? 1.1;
  const minBatch = config.minBatch ?? 10;
  if (!(relativeTolerance >= 0 && Number.isFinite(relativeTolerance)))
    throw new RangeError('relativeTolerance must be ≥ 0');
  if (!(absoluteTolerance >= 0 && Number.isFinite(absoluteTolerance)))
    throw new RangeError('absoluteTolerance must be ≥ 0');
  if (!(margin > 1 + relativeTolerance && Number.isFinite(margin)))
    throw new RangeError(`margin must exceed 1 + relativeTolerance (got ${margin})`);
  if (!(Number.isInteger(minBatch) && minBatch >= 2))
    throw new RangeError('minBatch must be a whole number ≥ 2');
  const worse = config.mixture ?? LATENCY_SHIFTS;
  const notWorse = { ratios: worse.ratios.map((r) => 1 / r), weights: worse.weights };
  checkMixture(worse, 'above');
  checkMixture(notWorse, 'below');
  return {
    kind: 'log-shift',
    alpha: config.alpha,
    relativeTolerance,
    absoluteTolerance,
    margin,
    minBatch,
    worse: emptySide(worse),
    notWorse: emptySide(notWorse),
    canary: EMPTY_HISTORY,
    stable: EMPTY_HISTORY,
    pending: { canary: EMPTY_MOMENTS, stable: EMPTY_MOMENTS, stratum: null },
    batches: 0,
    worseAfter: null,
  };
}

/**
 * Seeds the stable's history with data from before the test's first window (the stable's previous
 * window): its variance and geometric mean then exist for the first batch. Only on a fresh state.
 */
export function seedLogShiftTest(state: LogShiftState, stableBefore: LogMoments): LogShiftState {
  checkMoments(stableBefore, 'stableBefore');
  if (state.stable.n > 0 || state.batches > 0 || stableBefore.n < 2) return state;
  return { ...state, stable: addBatch(state.stable, stableBefore) };
}

export function updateLogShiftTest(state: LogShiftState, window: LogShiftWindow): LogShiftState {
  checkMoments(window.canary, 'canary');
  checkMoments(window.stable, 'stable');
  const stratum = window.stratum ?? null;
  const carried =
    state.pending.stratum === stratum ? state.pending : { canary: EMPTY_MOMENTS, stable: EMPTY_MOMENTS };
  const canary = addMoments(carried.canary, window.canary);
  const stable = addMoments(carried.stable, window.stable);
  if (canary.n < state.minBatch || stable.n < state.minBatch) {
    return { ...state, pending: { canary, stable, stratum } };
  }
  const next: LogShiftState = {
    ...state,
    ...testBatch(state, canary, stable),
    canary: addBatch(state.canary, canary),
    stable: addBatch(state.stable, stable),
    pending: { canary: EMPTY_MOMENTS, stable: EMPTY_MOMENTS, stratum },
    batches: state.batches + 1,
  };
  if (next.worseAfter === null && sideLogE(next.worse) >= Math.log(1 / next.alpha)) {
    return { ...next, worseAfter: next.canary.n };
  }
  return next;
}

export function decideLogShiftTest(state: LogShiftState): RegressionVerdict {
  return regressionVerdict(state, state.canary.n, state.stable.n, state.worseAfter);
}

/** The shift of the canary's geometric-mean latency over the stable's in the batches tested. */
export function logShiftEstimate(state: LogShiftState): number | null {
  if (state.canary.n === 0 || state.stable.n === 0) return null;
  return state.canary.sum / state.canary.n - state.stable.sum / state.stable.n;
}

/** The null's boundary for the next batch, ln(1 + max(δ, a / g)), from earlier data only. */
export function logShiftTolerance(state: LogShiftState): number {
  const g = state.stable.n > 0 ? Math.exp(state.stable.sum / state.stable.n) : Number.POSITIVE_INFINITY;
  const absolute = state.absoluteTolerance > 0 ? state.absoluteTolerance / g : 0;
  return Math.log1p(Math.max(state.relativeTolerance, absolute));
}

/** Moments of a list of positive values (latencies), for tests and simulations. */
export function logMoments(values: Iterable<number>): LogMoments {
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (const v of values) {
    const l = Math.log(v);
    n++;
    sum += l;
    sumSq += l * l;
  }
  return { n, sum, sumSq };
}

/**
 * The predictable variance of the batch difference, or null while there is none (the stable has
 * no history yet: the batch then only seeds the estimates).
 */
function predictableVariance(state: LogShiftState, nCanary: number, nStable: number): number | null {
  const { canary, stable } = state;
  if (stable.df < 1) return null;
  const stableVar = stable.ss / stable.df;
  const canaryVar = Math.max(
    stableVar,
    (canary.ss + CANARY_PRIOR_DF * stableVar) / (canary.df + CANARY_PRIOR_DF),
  );
  return canaryVar / nCanary + stableVar / nStable;
}

function testBatch(
  state: LogShiftState,
  canary: LogMoments,
  stable: LogMoments,
): Pick<LogShiftState, 'worse' | 'notWorse'> {
  const predicted = predictableVariance(state, canary.n, stable.n);
  if (predicted === null) return { worse: state.worse, notWorse: state.notWorse };
  const own = withinVariance(canary) / canary.n + withinVariance(stable) / stable.n;
  const v = Math.max(predicted, OWN_VARIANCE_FACTOR * own);
  if (!(v > 0)) return { worse: state.worse, notWorse: state.notWorse };
  const d = canary.sum / canary.n - stable.sum / stable.n;
  const sd = Math.sqrt(v);
  // Each side's LR is monotone in D, so capping the excess towards its alternatives only lowers it.
  const side = (s: MixtureSide, boundary: number, direction: 1 | -1): MixtureSide => {
    const excess = direction * Math.min(direction * (d - boundary), Z_CAP * sd);
    return advanceSide(s, (ratio) => {
      const shift = Math.log(ratio);
      return (shift * excess) / v - (shift * shift) / (2 * v);
    });
  };
  return {
    worse: side(state.worse, logShiftTolerance(state), 1),
    notWorse: side(state.notWorse, Math.log(state.margin), -1),
  };
}

/** Unbiased variance of one batch (0 with fewer than two values). */
function withinVariance(m: LogMoments): number {
  if (m.n < 2) return 0;
  return Math.max(0, m.sumSq - (m.sum * m.sum) / m.n) / (m.n - 1);
}

function addBatch(history: RevisionHistory, batch: LogMoments): RevisionHistory {
  return {
    n: history.n + batch.n,
    sum: history.sum + batch.sum,
    ss: history.ss + withinVariance(batch) * Math.max(0, batch.n - 1),
    df: history.df + Math.max(0, batch.n - 1),
  };
}

function addMoments(a: LogMoments, b: LogMoments): LogMoments {
  return { n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
}

function checkMoments(m: LogMoments, name: string): void {
  checkCount(m.n, `${name}.n`);
  if (!Number.isInteger(m.n)) throw new RangeError(`${name}.n must be a whole count`);
  if (!Number.isFinite(m.sum) || !(Number.isFinite(m.sumSq) && m.sumSq >= 0))
    throw new RangeError(`${name}: sums must be finite, Σ ln² ≥ 0`);
  if (m.n === 0 && (m.sum !== 0 || m.sumSq !== 0)) throw new RangeError(`${name}: sums without requests`);
}

function normalise(points: readonly (readonly [ratio: number, weight: number])[]): OddsRatioMixture {
  const total = points.reduce((s, [, w]) => s + w, 0);
  return { ratios: points.map(([r]) => r), weights: points.map(([, w]) => w / total) };
}
