import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fitCqrMatrix } from './cqr.js';
import { type GbdtOptions, resolveGbdtOptions } from './gbdt.js';
import { selectEntries, selectRows } from './matrix.js';
import { coverage, meanWidth } from './metrics.js';
import {
  type ModelVersion,
  type TrainSettings,
  type ValidationSummary,
  toModelVersion,
} from './serialize.js';

/** One observation: the features at a time and the production value the model learns. */
export interface TrainingRow {
  /** When it was observed (epoch ms). */
  readonly at: number;
  readonly features: readonly number[];
  readonly target: number;
}

export interface TrainOptions {
  /** One name per feature, in the rows' order. */
  readonly featureNames: readonly string[];
  /** Miscoverage α; default 0.1 (90% ranges). */
  readonly alpha?: number;
  /** Share of the fitted rows held out to calibrate; default 0.3. */
  readonly calibrationFraction?: number;
  /** Share of rows, the latest by time, held out to validate; default 0.2 (0: none). */
  readonly validationFraction?: number;
  readonly gbdt?: Omit<GbdtOptions, 'quantile' | 'seed'>;
  /** Fit a linear base under the quantile models (CqrOptions.linearBase); default false. */
  readonly linearBase?: boolean;
  /** Default 1. */
  readonly seed?: number;
  /** The version id; default derived from the content. */
  readonly id?: string;
}

/** Rows packed into typed arrays (what crosses to the worker, its buffers transferred). */
export interface PackedRows {
  readonly X: Float64Array<ArrayBuffer>;
  readonly y: Float64Array<ArrayBuffer>;
  readonly at: Float64Array<ArrayBuffer>;
  readonly rows: number;
  readonly cols: number;
}

/** Packs rows, checking each has one finite value per feature name, a finite target and time. */
export function packRows(rows: readonly TrainingRow[], featureNames: readonly string[]): PackedRows {
  const cols = featureNames.length;
  if (cols === 0) throw new RangeError('featureNames must name at least one feature');
  const X = new Float64Array(rows.length * cols);
  const y = new Float64Array(rows.length);
  const at = new Float64Array(rows.length);
  rows.forEach((row, i) => {
    if (row.features.length !== cols)
      throw new RangeError(`row ${i} has ${row.features.length} features, expected ${cols}`);
    if (!row.features.every(Number.isFinite))
      throw new RangeError(`row ${i} has a feature that is not finite`);
    if (!Number.isFinite(row.target)) throw new RangeError(`row ${i} target is not finite`);
    if (!Number.isFinite(row.at)) throw new RangeError(`row ${i} time is not finite`);
    X.set(row.features, i * cols);
    y[i] = row.target;
    at[i] = row.at;
  });
  return { X, y, at, rows: rows.length, cols };
}

/**
 * Trains one model version, synchronously: the latest `validationFraction` of rows by time are
 * held out, a CQR model is fitted to the rest, and its coverage and mean width on the held-out
 * rows are recorded. Deterministic: the same rows and options give the same version, id included.
 */
export function trainModel(rows: readonly TrainingRow[], options: TrainOptions): ModelVersion {
  return trainPacked(packRows(rows, options.featureNames), options);
}

export function trainPacked(packed: PackedRows, options: TrainOptions): ModelVersion {
  const settings = resolveSettings(options);
  if (packed.cols !== options.featureNames.length)
    throw new RangeError(`${packed.cols} features per row, ${options.featureNames.length} feature names`);
  const matrix = { values: packed.X, rows: packed.rows, cols: packed.cols };
  const byTime = Array.from({ length: packed.rows }, (_, i) => i).sort(
    (a, b) => (packed.at[a] as number) - (packed.at[b] as number) || a - b,
  );
  const nValidation = Math.round(packed.rows * settings.validationFraction);
  const fitted = Uint32Array.from(byTime.slice(0, packed.rows - nValidation));
  const heldOut = Uint32Array.from(byTime.slice(packed.rows - nValidation));
  if (fitted.length === 0) throw new RangeError('no rows left to fit after the validation hold-out');
  const model = fitCqrMatrix(selectRows(matrix, fitted), selectEntries(packed.y, fitted), {
    alpha: settings.alpha,
    calibrationFraction: settings.calibrationFraction,
    gbdt: settings.gbdt,
    seed: settings.seed,
    linearBase: settings.linearBase,
  });
  let validation: ValidationSummary | null = null;
  if (heldOut.length > 0) {
    const intervals = model.intervals(selectRows(matrix, heldOut).values);
    const ys = selectEntries(packed.y, heldOut);
    validation = { n: heldOut.length, coverage: coverage(intervals, ys), meanWidth: meanWidth(intervals) };
  }
  const times = selectEntries(packed.at, fitted);
  return toModelVersion(
    {
      trainingSpan: { from: times[0] as number, to: times[times.length - 1] as number },
      rows: fitted.length,
      featureNames: [...options.featureNames],
      validation,
      settings,
      model: model.toJSON(),
    },
    options.id,
  );
}

function resolveSettings(options: TrainOptions): TrainSettings {
  const settings = {
    alpha: options.alpha ?? 0.1,
    calibrationFraction: options.calibrationFraction ?? 0.3,
    validationFraction: options.validationFraction ?? 0.2,
    seed: options.seed ?? 1,
  };
  const linearBase = options.linearBase ?? false;
  const within = (field: keyof typeof settings, ok: boolean, rule: string): void => {
    if (!ok) throw new RangeError(`${field} must be ${rule} (got ${settings[field]})`);
  };
  within('alpha', settings.alpha > 0 && settings.alpha < 1, 'in (0, 1)');
  within(
    'calibrationFraction',
    settings.calibrationFraction > 0 && settings.calibrationFraction < 1,
    'in (0, 1)',
  );
  within(
    'validationFraction',
    settings.validationFraction >= 0 && settings.validationFraction < 1,
    'in [0, 1)',
  );
  within('seed', Number.isInteger(settings.seed), 'a whole number');
  const { quantile: _q, seed: _s, ...gbdt } = resolveGbdtOptions({ ...options.gbdt, quantile: 0.5 });
  return { ...settings, linearBase, gbdt };
}

/** A training job as posted to the worker. */
export interface TrainJob {
  readonly packed: PackedRows;
  readonly options: TrainOptions;
}

/** The worker's one answer. */
export type TrainReply = { readonly version: ModelVersion } | { readonly error: string };

/** Training failed in its worker (bad rows or options, or the worker died). */
export class ModelTrainingError extends Error {
  readonly code = 'MODEL_TRAINING_FAILED';
  override readonly name = 'ModelTrainingError';
}

/**
 * The compiled worker entry, as sim's workerUrl: beside this module in dist/; when this module
 * runs from src/ (vitest, tsx) it is still taken from dist/, so run `npm run build` first.
 */
export function trainWorkerUrl(here: string = import.meta.url): URL {
  const url = new URL('./train-worker.js', here);
  if (!here.endsWith('.ts')) return url;
  const path = url.pathname;
  const at = path.lastIndexOf('/src/');
  return new URL(`${path.slice(0, at)}/dist/${path.slice(at + '/src/'.length)}`, url);
}

/**
 * trainModel on a worker thread, so a multi-second fit never stalls the event loop. Options and
 * rows are checked and packed here (a bad one rejects at once) and the buffers transferred. Aborting
 * terminates the worker and rejects with the signal's reason.
 */
export async function trainInWorker(
  rows: readonly TrainingRow[],
  options: TrainOptions,
  signal?: AbortSignal,
): Promise<ModelVersion> {
  signal?.throwIfAborted();
  resolveSettings(options);
  const packed = packRows(rows, options.featureNames);
  const url = trainWorkerUrl();
  if (!existsSync(fileURLToPath(url)))
    throw new ModelTrainingError(
      `model worker not found at ${fileURLToPath(url)}: run \`npm run build\` first`,
    );
  const worker = new Worker(url);
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<ModelVersion>((resolve, reject) => {
      onAbort = () =>
        reject(signal?.reason instanceof Error ? signal.reason : new Error('model training aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (reply: TrainReply) => {
        if ('version' in reply) resolve(reply.version);
        else reject(new ModelTrainingError(reply.error));
      });
      worker.once('error', (error) =>
        reject(new ModelTrainingError(`model worker crashed: ${error.message}`, { cause: error })),
      );
      worker.once('exit', (code) =>
        reject(new ModelTrainingError(`model worker exited early with code ${code}`)),
      );
      const job: TrainJob = { packed, options };
      worker.postMessage(job, [packed.X.buffer, packed.y.buffer, packed.at.buffer]);
    });
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
