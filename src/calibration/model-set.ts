import { z } from 'zod';
import { fnv1a } from '../core/hash.js';
import { type Result, err, ok } from '../core/result.js';
import { type SidedAciState, SidedConformal } from '../model/aci.js';
import { LEARNED_FROM, type RangeSource, coldStartInterval } from '../model/cold-start.js';
import type { CqrModel } from '../model/cqr.js';
import { conformityScore, minimumCalibrationRows, sidedScores } from '../model/cqr.js';
import type { GbdtOptions } from '../model/gbdt.js';
import { type ModelVersion, loadModel, parseModelVersion } from '../model/serialize.js';
import { type TrainingRow, trainInWorker, trainModel } from '../model/train.js';
import {
  FEATURE_NAMES,
  MODEL_METRICS,
  type ModelMetric,
  type ModelRow,
  type RecentRecord,
  isRatioMetric,
  judgedTarget,
  metricRange,
  targetOf,
} from './features.js';
import { RecentResiduals } from './recent.js';

export const MODEL_SET_FORMAT = 'augur-model-set/1';

/**
 * One trained model per metric, trained together from the same rows: what a "model version" of
 * Augur is. Metrics with too few rows have no model (their ranges stay on the cold-start rule).
 */
export interface ModelSet {
  readonly format: typeof MODEL_SET_FORMAT;
  readonly id: string;
  readonly createdAt: number;
  /** Rows available when it was trained. */
  readonly rows: number;
  readonly trainingSpan: { readonly from: number; readonly to: number };
  readonly trainSeconds: number;
  readonly metrics: Partial<Record<ModelMetric, ModelVersion>>;
}

/** What listings show of a model set: everything but the trees. */
export interface ModelSetSummary {
  readonly id: string;
  readonly createdAt: number;
  readonly rows: number;
  readonly trainingSpan: { readonly from: number; readonly to: number };
  readonly trainSeconds: number;
  readonly metrics: Partial<
    Record<
      ModelMetric,
      {
        readonly modelId: string;
        readonly rows: number;
        readonly validation: {
          readonly n: number;
          readonly coverage: number;
          readonly meanWidth: number;
        } | null;
      }
    >
  >;
}

export interface TrainSetOptions {
  /** Time of training (epoch ms): the set's `createdAt`. */
  readonly now: number;
  readonly alpha?: number;
  readonly seed?: number;
  readonly gbdt?: Omit<GbdtOptions, 'quantile' | 'seed'>;
  /** Rows a metric needs to get a model; default LEARNED_FROM. */
  readonly learnedFrom?: number;
  /** Train on worker threads (the controller's default) or on this thread (benchmarks, tests). */
  readonly worker?: boolean;
  readonly signal?: AbortSignal;
}

/** Smaller forests than the model's defaults: rows here number in the thousands, not tens of thousands. */
export const SET_GBDT: Omit<GbdtOptions, 'quantile' | 'seed'> = { trees: 150, depth: 4, minLeaf: 15 };

/**
 * The metrics whose quantile models sit on a linear base (docs/model.md): the latency quantiles,
 * whose target ln(observed / simulated) carries the window simulation's sampling noise, which only
 * differences of correlated features (simulated against profile quantiles) reveal. Not CPU: its
 * simulated value is rate × CPU per request, computed, not sampled, so there is no such noise to
 * take out (on bench:predict's training days its ranges came out as wide with a line as without,
 * and its uncorrected calibration worse). Not the error rate: its point mass at the log scale's
 * floor (windows without errors) and its bursts are what a least-squares line fits worst (its
 * ranges there came out wider).
 */
export const LINEAR_BASE_METRICS: readonly ModelMetric[] = ['latencyP50Ms', 'latencyP95Ms', 'latencyP99Ms'];

/** The rows a metric's model learns from: those with a target (both sides known). */
export function trainingRowsFor(metric: ModelMetric, rows: readonly ModelRow[]): TrainingRow[] {
  const out: TrainingRow[] = [];
  for (const r of rows) {
    const target = targetOf(metric, r.simulated[metric], r.observed[metric]);
    if (target !== null && r.features.length === FEATURE_NAMES.length && r.features.every(Number.isFinite))
      out.push({ at: r.at, features: r.features, target });
  }
  return out;
}

/**
 * Trains one model per metric that has at least `learnedFrom` rows. Null when none has: the cold
 * start goes on. Deterministic for the same rows and options (ids included).
 */
export async function trainModelSet(
  rows: readonly ModelRow[],
  options: TrainSetOptions,
): Promise<ModelSet | null> {
  const started = performance.now();
  const learnedFrom = options.learnedFrom ?? LEARNED_FROM;
  const metrics: Partial<Record<ModelMetric, ModelVersion>> = {};
  for (const metric of MODEL_METRICS) {
    options.signal?.throwIfAborted();
    // Between metrics the event loop runs: the controller's ticks never wait on a whole training.
    if (options.worker !== false) await new Promise((resolve) => setImmediate(resolve));
    const training = trainingRowsFor(metric, rows);
    if (training.length < learnedFrom) continue;
    const trainOptions = {
      featureNames: FEATURE_NAMES,
      alpha: options.alpha ?? 0.1,
      seed: options.seed ?? 1,
      gbdt: options.gbdt ?? SET_GBDT,
      linearBase: LINEAR_BASE_METRICS.includes(metric),
    };
    metrics[metric] =
      options.worker === false
        ? trainModel(training, trainOptions)
        : await trainInWorker(training, trainOptions, options.signal);
  }
  const ids = Object.values(metrics).map((v) => v.id);
  if (ids.length === 0) return null;
  const times = rows.map((r) => r.at);
  return {
    format: MODEL_SET_FORMAT,
    id: `s-${fnv1a(ids.join('|')).toString(16).padStart(8, '0')}`,
    createdAt: options.now,
    rows: rows.length,
    trainingSpan: { from: Math.min(...times), to: Math.max(...times) },
    trainSeconds: (performance.now() - started) / 1000,
    metrics,
  };
}

export function summarizeModelSet(set: ModelSet): ModelSetSummary {
  const metrics: Record<string, ModelSetSummary['metrics'][ModelMetric]> = {};
  for (const [metric, version] of Object.entries(set.metrics)) {
    metrics[metric] = { modelId: version.id, rows: version.rows, validation: version.validation };
  }
  return {
    id: set.id,
    createdAt: set.createdAt,
    rows: set.rows,
    trainingSpan: set.trainingSpan,
    trainSeconds: set.trainSeconds,
    metrics,
  };
}

const setShape = z.object({
  format: z.literal(MODEL_SET_FORMAT),
  id: z.string().min(1),
  createdAt: z.number(),
  rows: z.number().int().min(0),
  trainingSpan: z.object({ from: z.number(), to: z.number() }),
  trainSeconds: z.number().min(0),
  metrics: z.record(z.enum(MODEL_METRICS), z.unknown()),
});

export function parseModelSet(json: unknown): Result<ModelSet, { code: 'MODEL_FORMAT'; message: string }> {
  const shape = setShape.safeParse(json);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    return err({
      code: 'MODEL_FORMAT',
      message: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'bad model set'}`,
    });
  }
  const metrics: Partial<Record<ModelMetric, ModelVersion>> = {};
  for (const [metric, body] of Object.entries(shape.data.metrics)) {
    const version = parseModelVersion(body);
    if (!version.ok)
      return err({ code: 'MODEL_FORMAT', message: `metrics.${metric}: ${version.error.message}` });
    metrics[metric as ModelMetric] = version.value;
  }
  return ok({ ...shape.data, format: MODEL_SET_FORMAT, metrics });
}

/** A metric's range and where it came from. */
export interface MetricRange {
  readonly low: number;
  readonly high: number;
  readonly source: RangeSource;
}

/** The cold start's floor on a point prediction's half-width, in the target's scale. */
const COLD_HALF_WIDTH: Record<'ratio' | 'rate', number> = { ratio: Math.LN2, rate: 0.01 };

/**
 * The cold-start rule's scale: the learned target's for latency and CPU, the rate itself for
 * errors. The simulation's error rate is a point the rule widens symmetrically, and on a log scale
 * that stretches: a simulated 0.7% would reach 8% with no data, 20% after a few windows without
 * errors. On the rate, ±1% with no data, then the conformal widening of past misses.
 */
function coldTarget(metric: ModelMetric, simulated: number | null, observed: number | null): number | null {
  if (isRatioMetric(metric)) return targetOf(metric, simulated, observed);
  return observed === null || !Number.isFinite(observed) || observed < 0 ? null : observed;
}

function coldRange(
  metric: ModelMetric,
  simulated: number,
  interval: { readonly low: number; readonly high: number },
): { readonly low: number; readonly high: number } {
  if (isRatioMetric(metric)) return metricRange(metric, simulated, interval);
  const clip = (rate: number): number => Math.max(0, Math.min(1, rate));
  return { low: clip(interval.low), high: clip(interval.high) };
}
/** A service's adaptive calibration starts from its own held-out scores once it has this many. */
const OWN_SCORES_FROM = 50;
/** Held-out scores kept per metric for services without their own (an ACI window's worth). */
const HELD_OUT_KEPT = 500;
/** Past scores kept per metric for the cold start's conformal rule. */
const COLD_SCORES_KEPT = 2_000;

/**
 * Turns simulated values into ranges: the learned model (CQR, kept calibrated between retrains
 * by adaptive conformal inference) where the set has one for the metric, else the cold-start rule
 * from the simulation's own past errors. Adaptive calibration runs per service × metric (Mondrian
 * style: a noisy service widens its own ranges, not every service's), each started from the
 * model's calibration scores. `observe` feeds each observed window back.
 */
export class CalibratedRanges {
  readonly set: ModelSet | null;
  private readonly models = new Map<ModelMetric, CqrModel>();
  /** Per metric, the time of the last row its model was fitted to: later rows are out of sample. */
  private readonly fittedTo = new Map<ModelMetric, number>();
  private readonly aci = new Map<string, SidedConformal>();
  /** Per metric, the held-out scores of every service since its model's fitted span, oldest first. */
  private readonly heldOut = new Map<ModelMetric, { below: number[]; above: number[] }>();
  private readonly coldScores = new Map<ModelMetric, number[]>();
  /** What production showed each service lately (the recent-record features). */
  private readonly memory = new RecentResiduals();
  private readonly alpha: number;

  constructor(
    set: ModelSet | null,
    options: { readonly alpha?: number; readonly aci?: Readonly<Record<string, SidedConformal>> } = {},
  ) {
    this.set = set;
    this.alpha = options.alpha ?? 0.1;
    for (const [metric, version] of Object.entries(set?.metrics ?? {}) as [ModelMetric, ModelVersion][]) {
      this.models.set(metric, loadModel(version));
      this.fittedTo.set(metric, version.trainingSpan.to);
    }
    for (const [key, aci] of Object.entries(options.aci ?? {})) this.aci.set(key, aci);
  }

  /**
   * Seeds the cold-start rule with past windows (oldest first), and each service's adaptive
   * calibration with its own scores where there are enough: those of the windows after its
   * model's fitted span (held out from fitting, so as honest as the calibration rows). Without
   * them a service starts from the calibration scores of every service, whose scale may be
   * another's (a quiet service's error rate would be given a noisy one's widening), followed by
   * the held-out scores of every service: the latest evidence of how the model does. A model
   * trained on little data can cover its calibration rows and miss a third of the windows after
   * them; its ranges then start as wide as those misses say, not as its calibration alone says.
   */
  remember(rows: readonly ModelRow[]): void {
    this.memory.addAll([...rows].sort((a, b) => a.at - b.at));
    const own = new Map<string, { model: CqrModel; below: number[]; above: number[] }>();
    for (const row of rows) {
      for (const metric of MODEL_METRICS) {
        this.addColdScore(metric, row);
        const model = this.models.get(metric);
        if (model === undefined || row.at <= (this.fittedTo.get(metric) ?? Infinity)) continue;
        if (row.features.length !== FEATURE_NAMES.length || !row.features.every(Number.isFinite)) continue;
        const target = targetOf(metric, row.simulated[metric], row.observed[metric]);
        if (target === null) continue;
        const key = calibrationKey(row.service, metric);
        const entry = own.get(key) ?? { model, below: [], above: [] };
        const scores = sidedScores(model.frame(row.features), judgedTarget(metric, target));
        entry.below.push(scores.below);
        entry.above.push(scores.above);
        own.set(key, entry);
        const pooled = this.heldOut.get(metric) ?? { below: [], above: [] };
        pooled.below.push(scores.below);
        pooled.above.push(scores.above);
        this.heldOut.set(metric, pooled);
      }
    }
    for (const pooled of this.heldOut.values()) {
      pooled.below.splice(0, Math.max(0, pooled.below.length - HELD_OUT_KEPT));
      pooled.above.splice(0, Math.max(0, pooled.above.length - HELD_OUT_KEPT));
    }
    for (const [key, { model, below, above }] of own) {
      if (this.aci.has(key) || below.length < OWN_SCORES_FROM) continue;
      this.aci.set(key, SidedConformal.create({ alpha: model.alpha, initialScores: { below, above } }));
    }
  }

  source(metric: ModelMetric): RangeSource {
    if (this.models.has(metric)) return 'learned';
    return (this.coldScores.get(metric)?.length ?? 0) >= minimumCalibrationRows(this.alpha)
      ? 'simulation-conformal'
      : 'simulation-widened';
  }

  /** The range of a metric of `service` for a window whose simulated value and features are given. */
  range(metric: ModelMetric, simulated: number, features: readonly number[], service = ''): MetricRange {
    const model = this.models.get(metric);
    if (model !== undefined) {
      const frame = model.frame(features);
      const aci = this.aciOf(service, metric, model);
      const target = aci.interval(frame);
      // Too few scores for ACI's current level gives an unbounded range: the widest seen instead.
      const bounded =
        Number.isFinite(target.low) && Number.isFinite(target.high) ? target : aci.widest(frame);
      return { ...metricRange(metric, simulated, bounded), source: 'learned' };
    }
    const ratio = isRatioMetric(metric);
    const centre = ratio ? 0 : simulated;
    const cold = coldStartInterval({ low: centre, high: centre }, this.coldScores.get(metric) ?? [], {
      alpha: this.alpha,
      minHalfWidth: COLD_HALF_WIDTH[ratio ? 'ratio' : 'rate'],
    });
    return { ...coldRange(metric, simulated, cold.interval), source: cold.source };
  }

  /**
   * What the learned model expects production to show for a window: its median model's
   * prediction in the metric's own scale (the middle of the range `range` gives). Null when the
   * metric has no learned model: the cold start corrects nothing.
   */
  centre(metric: ModelMetric, simulated: number, features: readonly number[]): number | null {
    const model = this.models.get(metric);
    if (model === undefined) return null;
    const { centre } = model.frame(features);
    return metricRange(metric, simulated, { low: centre, high: centre }).high;
  }

  /** Every metric's range for a row's simulated values (those that have one). */
  ranges(
    row: Pick<ModelRow, 'simulated' | 'features' | 'service'>,
  ): Partial<Record<ModelMetric, MetricRange>> {
    const out: Partial<Record<ModelMetric, MetricRange>> = {};
    for (const metric of MODEL_METRICS) {
      const simulated = row.simulated[metric];
      if (simulated !== null && Number.isFinite(simulated))
        out[metric] = this.range(metric, simulated, row.features, row.service);
    }
    return out;
  }

  /**
   * The recent record of `revision` of `service` as of `at`, from the windows remembered and
   * observed: what a window's features need (a revision that has not served gets its service's).
   */
  recent(service: string, revision: string, at: number): RecentRecord {
    return this.memory.record(service, revision, at);
  }

  /**
   * Feeds an observed window back: adaptive conformal steps for learned metrics, cold-start
   * scores, the recent record.
   */
  observe(row: ModelRow): void {
    this.memory.add(row);
    for (const metric of MODEL_METRICS) {
      const model = this.models.get(metric);
      const target = targetOf(metric, row.simulated[metric], row.observed[metric]);
      if (target === null) continue;
      if (model !== undefined)
        this.aciOf(row.service, metric, model).update(
          model.frame(row.features),
          judgedTarget(metric, target),
        );
      this.addColdScore(metric, row);
    }
  }

  /** Adaptive calibration states by `service/metric`, to save. */
  aciStates(): Record<string, SidedAciState> {
    const out: Record<string, SidedAciState> = {};
    for (const [key, aci] of this.aci) out[key] = aci.toJSON();
    return out;
  }

  private aciOf(service: string, metric: ModelMetric, model: CqrModel): SidedConformal {
    const key = calibrationKey(service, metric);
    let aci = this.aci.get(key);
    if (aci === undefined) {
      const heldOut = this.heldOut.get(metric);
      const initialScores =
        heldOut === undefined
          ? model.scores
          : {
              below: [...model.scores.below, ...heldOut.below],
              above: [...model.scores.above, ...heldOut.above],
            };
      aci = SidedConformal.create({ alpha: model.alpha, initialScores });
      this.aci.set(key, aci);
    }
    return aci;
  }

  private addColdScore(metric: ModelMetric, row: Pick<ModelRow, 'simulated' | 'observed'>): void {
    const simulated = row.simulated[metric];
    const target = coldTarget(metric, simulated, row.observed[metric]);
    if (target === null || simulated === null) return;
    const centre = isRatioMetric(metric) ? 0 : simulated;
    const scores = this.coldScores.get(metric) ?? [];
    scores.push(conformityScore({ low: centre, high: centre }, target));
    if (scores.length > COLD_SCORES_KEPT) scores.shift();
    this.coldScores.set(metric, scores);
  }
}

/** How a service × metric's adaptive state is keyed (and stored). */
export function calibrationKey(service: string, metric: ModelMetric): string {
  return `${service}/${metric}`;
}
