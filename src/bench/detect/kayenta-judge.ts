import type { Judge, Verdict } from './judge.js';
import { peerSteps } from './judge.js';
import { mannWhitneyShift } from './mann-whitney.js';
import type { Plan } from './scenario.js';
import { KAYENTA_STEP_S, PEER_INTERVAL_S } from './scenario.js';
import { Samples } from './stream.js';
import type { Second } from './stream.js';

/** Kayenta's score thresholds as the brief's configuration sets them. */
const PASS = 75;
const MARGINAL = 50;
const CONFIDENCE = 0.98;
/** The CI must clear this fraction of |Hodges–Lehmann shift| (MannWhitneyClassifier tolerance). */
const TOLERANCE = 0.25;
/** effectSize.allowedIncrease default: the canary's mean must be at least the baseline's. */
const ALLOWED_INCREASE = 1;
const IQR_FACTOR = 3;

type Classification = 'Pass' | 'High' | 'Nodata';

/** Apache Commons Math's default percentile (position p·(n + 1)), as DescriptiveStatistics uses. */
function percentile(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  const pos = (p / 100) * (n + 1);
  if (pos < 1) return sorted[0] ?? Number.NaN;
  if (pos >= n) return sorted[n - 1] ?? Number.NaN;
  const lo = Math.floor(pos);
  const a = sorted[lo - 1] ?? Number.NaN;
  const b = sorted[lo] ?? a;
  return a + (pos - lo) * (b - a);
}

/** NaNs removed, then IQRDetector(factor 3, reduceSensitivity): fences widened to p1 / p99. */
function transform(values: Samples): Float64Array {
  const clean = values.sorted().filter((v) => !Number.isNaN(v));
  if (clean.length === 0) return clean;
  const p25 = percentile(clean, 25);
  const p75 = percentile(clean, 75);
  const iqr = p75 - p25;
  const lower = Math.min(percentile(clean, 1), p25 - IQR_FACTOR * iqr);
  const upper = Math.max(percentile(clean, 99), p75 + IQR_FACTOR * iqr);
  return clean.filter((v) => v >= lower && v <= upper);
}

const mean = (xs: Float64Array): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** MannWhitneyClassifier with direction "increase" (a higher error rate or latency is worse). */
export function classify(control: Samples, experiment: Samples): Classification {
  const y = transform(control);
  const x = transform(experiment);
  if (x.length === 0 || y.length === 0) return 'Nodata';
  if (x.length === y.length && x.every((v, i) => v === y[i])) return 'Pass';
  if (x.every((v) => v === x[0]) && y.every((v) => v === x[0])) return 'Pass';
  const shift = mannWhitneyShift(x, y, CONFIDENCE);
  const ratio = mean(x) / mean(y);
  const high = shift.lower > TOLERANCE * Math.abs(shift.estimate) && !(ratio < ALLOWED_INCREASE);
  return high ? 'High' : 'Pass';
}

/**
 * Kayenta's NetflixACAJudge over a growing analysis (lookback: everything since the release
 * started), judged once per interval: per metric, the canary's data points against the baseline's
 * (one point per 10 s step), score = 100 × passes / metrics. An interim score ≤ marginal fails the
 * analysis at once (rollback); a score ≥ pass at the end of a tier's bake advances. The baseline is
 * a baseline cluster the size of the canary: per step, as many stable requests as the canary got.
 * Metrics: error rate and mean latency, both "increase is bad"; no-data counts as a failure.
 */
export class KayentaJudge implements Judge {
  readonly name = 'kayenta';
  private readonly steps: number[];
  private readonly held: boolean;
  private step = 0;
  verdict: Verdict = 'running';
  // Data points since the start.
  private readonly canaryErrors = new Samples();
  private readonly canaryLatency = new Samples();
  private readonly baseErrors = new Samples();
  private readonly baseLatency = new Samples();
  // The current step.
  private canaryN = 0;
  private canaryErr = 0;
  private canarySum = 0;
  private readonly stableLat = new Samples();
  private readonly stableErr = new Samples();

  constructor(plan: Plan) {
    this.steps = peerSteps(plan.tiers);
    this.held = plan.kind === 'held';
  }

  share(): number {
    if (this.verdict === 'rolled-back') return 0;
    if (this.verdict === 'promoted') return 1;
    return this.steps[this.step] ?? 0;
  }

  consume(second: Second, share: number): void {
    for (let i = 0; i < second.n; i++) {
      if ((second.u[i] ?? 1) < share) {
        this.canaryN++;
        this.canaryErr += second.canaryError[i] ?? 0;
        this.canarySum += second.canaryLatency[i] ?? 0;
      } else {
        this.stableLat.push(second.stableLatency[i] ?? 0);
        this.stableErr.push(second.stableError[i] ?? 0);
      }
    }
  }

  endSecond(t: number): void {
    if (this.verdict !== 'running') return;
    if (t % KAYENTA_STEP_S === 0) this.closeStep();
    if (t % PEER_INTERVAL_S !== 0) return;
    const score = this.score();
    if (score <= MARGINAL) {
      this.verdict = 'rolled-back';
      return;
    }
    if (this.held || score < PASS) return;
    if (this.step + 1 < this.steps.length) this.step++;
    else this.verdict = 'promoted';
  }

  private closeStep(): void {
    const n = this.canaryN;
    this.canaryErrors.push(n > 0 ? this.canaryErr / n : Number.NaN);
    this.canaryLatency.push(n > 0 ? this.canarySum / n : Number.NaN);
    const k = Math.min(n, this.stableLat.length);
    let errors = 0;
    let sum = 0;
    for (let i = 0; i < k; i++) {
      errors += this.stableErr.at(i);
      sum += this.stableLat.at(i);
    }
    this.baseErrors.push(k > 0 ? errors / k : Number.NaN);
    this.baseLatency.push(k > 0 ? sum / k : Number.NaN);
    this.canaryN = 0;
    this.canaryErr = 0;
    this.canarySum = 0;
    this.stableLat.clear();
    this.stableErr.clear();
  }

  private score(): number {
    const results = [
      classify(this.baseErrors, this.canaryErrors),
      classify(this.baseLatency, this.canaryLatency),
    ];
    return (100 * results.filter((r) => r === 'Pass').length) / results.length;
  }
}
