import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Result, err, ok } from '../core/result.js';
import { SidedConformal, type SidedAciState } from './aci.js';
import { CqrModel, type CqrJson } from './cqr.js';
import type { ResolvedGbdtOptions } from './gbdt.js';

export const MODEL_FORMAT = 'augur-model/2';

/** How a version was trained, resolved (defaults filled in), so it can be trained again. */
export interface TrainSettings {
  readonly alpha: number;
  readonly calibrationFraction: number;
  readonly validationFraction: number;
  readonly seed: number;
  /** Whether the quantile models sit on a linear base (false in versions from before it existed). */
  readonly linearBase: boolean;
  readonly gbdt: Omit<ResolvedGbdtOptions, 'quantile' | 'seed'>;
}

export interface ValidationSummary {
  /** Held-out rows (the latest by time: see docs/model.md). */
  readonly n: number;
  /** Share of them inside their calibrated interval. */
  readonly coverage: number;
  readonly meanWidth: number;
}

/**
 * One model version as plain JSON: trees as flat number arrays, so JSON.parse(JSON.stringify(v))
 * gives back a model with exactly the same predictions (a finite double survives the round trip
 * bit for bit).
 */
export interface ModelVersion {
  readonly format: typeof MODEL_FORMAT;
  /** `m-` and 16 hex digits of the SHA-256 of everything else, unless the trainer named it. */
  readonly id: string;
  /** Times (epoch ms) of the first and last row the model was fitted to. */
  readonly trainingSpan: { readonly from: number; readonly to: number };
  /** Rows fitted (training + calibration; validation rows not included). */
  readonly rows: number;
  readonly featureNames: readonly string[];
  /** null when no rows were held out. */
  readonly validation: ValidationSummary | null;
  readonly settings: TrainSettings;
  readonly model: CqrJson;
}

export type ModelVersionContent = Omit<ModelVersion, 'format' | 'id'>;

export interface ModelFormatError {
  readonly code: 'MODEL_FORMAT';
  readonly message: string;
}

/** A version record for a fitted model; its id is derived from the content unless given. */
export function toModelVersion(content: ModelVersionContent, id?: string): ModelVersion {
  checkContent(content);
  return { format: MODEL_FORMAT, id: id ?? contentId(content), ...content };
}

/** Builds the model once (which checks the trees) and matches the feature names to it. */
function checkContent(content: ModelVersionContent): void {
  const features = new CqrModel(content.model).featureCount;
  if (content.featureNames.length !== features)
    throw new RangeError(`${content.featureNames.length} feature names for a model of ${features} features`);
}

/** `m-` + the first 16 hex digits of SHA-256 over the content's JSON. */
export function contentId(content: ModelVersionContent): string {
  return `m-${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16)}`;
}

/** The model of a version, ready to predict. */
export function loadModel(version: ModelVersion): CqrModel {
  return new CqrModel(version.model);
}

const finite = z.number().finite();
const count = z.number().int().nonnegative();
const level = z.number().gt(0).lt(1);
const numbers = z.array(finite);
const gbdt = z
  .object({
    kind: z.literal('quantile-gbdt'),
    quantile: level,
    featureCount: z.number().int().positive(),
    init: finite,
    roots: z.array(count),
    feature: z.array(z.number().int().min(-1)),
    threshold: numbers,
    left: z.array(z.number().int().min(-1)),
    right: z.array(z.number().int().min(-1)),
    value: numbers,
  })
  .strict();
const cqr = z
  .object({
    kind: z.literal('cqr'),
    alpha: level,
    lower: gbdt,
    upper: gbdt,
    centre: gbdt,
    spreadFloor: z.number().positive().finite(),
    calibration: z.object({ n: count, below: finite, above: finite, coverageOnCalibration: finite }).strict(),
    scores: z.object({ below: numbers, above: numbers }).strict(),
    linear: z
      .object({
        kind: z.literal('linear'),
        intercept: finite,
        weights: numbers,
        min: numbers,
        max: numbers,
      })
      .strict()
      .optional(),
  })
  .strict();
const version = z
  .object({
    format: z.literal(MODEL_FORMAT),
    id: z.string().min(1),
    trainingSpan: z.object({ from: finite, to: finite }).strict(),
    rows: count,
    featureNames: z.array(z.string()),
    validation: z.object({ n: count, coverage: finite, meanWidth: finite }).strict().nullable(),
    settings: z
      .object({
        alpha: level,
        calibrationFraction: level,
        validationFraction: z.number().min(0).lt(1),
        seed: z.number().int(),
        linearBase: z.boolean().default(false),
        gbdt: z
          .object({
            trees: count,
            depth: z.number().int().positive(),
            learningRate: z.number().gt(0).max(1),
            minLeaf: z.number().int().positive(),
            bins: z.number().int().min(2).max(255),
            subsample: z.number().gt(0).max(1),
            l2: z.number().min(0).finite(),
          })
          .strict(),
      })
      .strict(),
    model: cqr,
  })
  .strict();
const aci = z
  .object({
    kind: z.literal('aci'),
    alpha: level,
    gamma: level,
    window: z.number().int().positive(),
    alphaT: finite,
    scores: numbers,
    steps: count,
    misses: count,
  })
  .strict();
const sidedAci = z.object({ kind: z.literal('aci-sided'), below: aci, above: aci }).strict();

/**
 * A model version from parsed JSON, or why it cannot be one. The shape is checked here and the
 * trees' structure (children after parents, features in range) by building the model once, so a
 * truncated or hand-edited record is refused rather than predicting nonsense.
 */
export function parseModelVersion(json: unknown): Result<ModelVersion, ModelFormatError> {
  const parsed = version.safeParse(json);
  if (!parsed.success) return err(formatError('model version', parsed.error));
  const v = parsed.data as ModelVersion;
  try {
    checkContent(v);
  } catch (error) {
    return err({ code: 'MODEL_FORMAT', message: error instanceof Error ? error.message : String(error) });
  }
  return ok(v);
}

/** A two-sided adaptive-conformal state from parsed JSON (as written by SidedConformal.toJSON). */
export function parseAciState(json: unknown): Result<SidedConformal, ModelFormatError> {
  const parsed = sidedAci.safeParse(json);
  if (!parsed.success) return err(formatError('aci state', parsed.error));
  try {
    return ok(SidedConformal.fromJSON(parsed.data as SidedAciState));
  } catch (error) {
    return err({ code: 'MODEL_FORMAT', message: error instanceof Error ? error.message : String(error) });
  }
}

function formatError(what: string, error: z.ZodError): ModelFormatError {
  const issue = error.issues[0];
  return {
    code: 'MODEL_FORMAT',
    message: `invalid ${what} at ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'unknown'}`,
  };
}
