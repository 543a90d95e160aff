import type { Clock } from '../core/clock.js';
import { parseAciState } from '../model/serialize.js';
import type { SidedConformal } from '../model/aci.js';
import { LEARNED_FROM } from '../model/cold-start.js';
import type { Store, StoredModelRow } from '../store/store.js';
import { FEATURE_NAMES, MODEL_METRICS, type ModelRow } from './features.js';
import type { WindowIngestor } from './ingest.js';
import {
  CalibratedRanges,
  type ModelSet,
  parseModelSet,
  summarizeModelSet,
  trainModelSet,
} from './model-set.js';

export interface ModelServiceOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly ingestor: WindowIngestor;
  /** Retrain at least this often when new rows arrived; default 10 minutes. */
  readonly retrainEveryMs?: number;
  /** Retrain as soon as this many rows arrived since the last training; default 500. */
  readonly retrainAfterRows?: number;
  /** Train on the newest this many rows; default 20,000. */
  readonly maxTrainingRows?: number;
  /** Rows a metric needs before it gets a learned model; default LEARNED_FROM (500). */
  readonly learnedFrom?: number;
  /** Train on a worker thread (default) or inline (tests). */
  readonly worker?: boolean;
  /** One line per training, for logs. */
  readonly say?: (line: string) => void;
}

/** Rows the cold-start rule and ACI are seeded with when the service opens. */
const SEED_ROWS = 2_000;

/**
 * The prediction model's life in a running Augur: every window becomes a training row (scored
 * first against the ranges the current model gives, so coverage is tracked over time), and the
 * model is retrained on a worker thread on a schedule and when enough new rows arrived. Adaptive
 * conformal state is saved with every window, so a restart resumes calibrated.
 */
export class ModelService {
  private readonly options: ModelServiceOptions;
  private current: CalibratedRanges;
  private rowsSinceTraining = 0;
  private lastTrainedAt: number | null;
  private training: Promise<ModelSet | null> | null = null;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private stepping: Promise<void> | null = null;
  private lastError: string | null = null;

  private constructor(options: ModelServiceOptions, ranges: CalibratedRanges, lastTrainedAt: number | null) {
    this.options = options;
    this.current = ranges;
    this.lastTrainedAt = lastTrainedAt;
  }

  /** Loads the latest stored model set and its calibration state; seeds the cold start from stored rows. */
  static async open(options: ModelServiceOptions): Promise<ModelService> {
    const ranges = await loadRanges(options.store);
    const service = new ModelService(options, ranges, ranges.set?.createdAt ?? null);
    if (ranges.set !== null)
      service.rowsSinceTraining = await options.store.countModelRows(ranges.set.trainingSpan.to + 1);
    else service.rowsSinceTraining = await options.store.countModelRows();
    return service;
  }

  /** The ranges of the current model (or the cold-start rule). */
  ranges(): CalibratedRanges {
    return this.current;
  }

  get error(): string | null {
    return this.lastError;
  }

  /** Ingests the windows that ended since the last step; starts a training when one is due. */
  async step(): Promise<ModelRow[]> {
    const now = this.options.clock.now();
    const ranges = this.current;
    const rows = await this.options.ingestor.rows(now, (service, revision, at) =>
      ranges.recent(service, revision, at),
    );
    if (rows.length > 0) {
      const stored: StoredModelRow[] = rows.map((row) => {
        const given = ranges.ranges(row);
        ranges.observe(row);
        return {
          ...row,
          modelId: ranges.set?.id ?? null,
          ranges: Object.keys(given).length === 0 ? null : given,
        };
      });
      await this.options.store.saveModelRows(stored);
      const set = ranges.set;
      if (set !== null) {
        for (const [key, state] of Object.entries(ranges.aciStates())) {
          await this.options.store.saveCalibrationState(key, set.id, state, now);
        }
      }
      this.rowsSinceTraining += rows.length;
    }
    if (this.training === null && this.due(now)) this.training = this.train(now);
    return rows;
  }

  /** Trains now on the stored rows (what the schedule does), resolving with the new set or null. */
  async trainNow(): Promise<ModelSet | null> {
    if (this.training !== null) return this.training;
    this.training = this.train(this.options.clock.now());
    return this.training;
  }

  /** Steps every window, in the background (never blocking the caller's event loop for long). */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(
      () => {
        if (this.stepping !== null) return;
        this.stepping = this.step()
          .then(() => undefined)
          .catch((error: unknown) => {
            this.lastError = (error as Error).message;
          })
          .finally(() => {
            this.stepping = null;
          });
      },
      Math.min(this.options.ingestor.windowMs, 5_000),
    );
    this.timer.unref();
  }

  /** Stops stepping, abandons a training in progress, and waits for both. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort(new Error('the model service stopped'));
    await this.stepping;
    await this.training?.catch(() => null);
  }

  private due(now: number): boolean {
    const learnedFrom = this.options.learnedFrom ?? LEARNED_FROM;
    if (this.current.set === null) return this.rowsSinceTraining >= learnedFrom;
    if (this.rowsSinceTraining >= (this.options.retrainAfterRows ?? 500)) return true;
    return (
      this.rowsSinceTraining > 0 &&
      now - (this.lastTrainedAt ?? 0) >= (this.options.retrainEveryMs ?? 600_000)
    );
  }

  private async train(now: number): Promise<ModelSet | null> {
    try {
      const stored = await readRows(this.options.store, this.options.maxTrainingRows ?? 20_000);
      const set = await trainModelSet(stored, {
        now,
        learnedFrom: this.options.learnedFrom ?? LEARNED_FROM,
        worker: this.options.worker ?? true,
        signal: this.abort.signal,
      });
      this.lastTrainedAt = now;
      this.rowsSinceTraining = 0;
      if (set === null) return null;
      await this.options.store.saveModelVersion({
        id: set.id,
        createdAt: set.createdAt,
        summary: summarizeModelSet(set),
        body: set,
      });
      const next = new CalibratedRanges(set);
      next.remember(stored.slice(-SEED_ROWS));
      this.current = next;
      const summary = summarizeModelSet(set);
      const figures = Object.entries(summary.metrics)
        .map(([m, s]) => `${m} ${s.validation === null ? '–' : s.validation.coverage.toFixed(3)}`)
        .join(', ');
      this.options.say?.(
        `model ${set.id} trained on ${set.rows} rows in ${set.trainSeconds.toFixed(1)} s; held-out coverage: ${figures}`,
      );
      return set;
    } catch (error) {
      if (!this.abort.signal.aborted) this.lastError = (error as Error).message;
      return null;
    } finally {
      this.training = null;
    }
  }
}

/** Rows read per page, the event loop served between pages: a tick never waits on a long read. */
const PAGE_ROWS = 2_000;

/** The newest `count` rows, oldest first, read in pages. */
async function readRows(store: Store, count: number): Promise<StoredModelRow[]> {
  const pages: StoredModelRow[][] = [];
  for (let offset = 0; offset < count; offset += PAGE_ROWS) {
    const page = await store.modelRows({ limit: Math.min(PAGE_ROWS, count - offset), offset });
    pages.unshift(page);
    if (page.length < PAGE_ROWS) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return pages.flat();
}

/** The latest stored model set with its saved calibration state, or the cold start. */
export async function loadRanges(store: Store): Promise<CalibratedRanges> {
  const latest = await store.latestModelVersion();
  const parsed = latest === null ? null : parseModelSet(latest.body);
  // A set that takes other features (an older Augur's) cannot read today's rows: the cold start
  // goes on until the next training.
  const set = parsed?.ok === true && takesTodaysFeatures(parsed.value) ? parsed.value : null;
  const aci: Record<string, SidedConformal> = {};
  if (set !== null) {
    for (const saved of await store.calibrationStates()) {
      const metric = saved.metric.slice(saved.metric.lastIndexOf('/') + 1);
      if (saved.modelId !== set.id || !(MODEL_METRICS as readonly string[]).includes(metric)) continue;
      const state = parseAciState(saved.state);
      if (state.ok) aci[saved.metric] = state.value;
    }
  }
  const ranges = new CalibratedRanges(set, { aci });
  ranges.remember(await store.modelRows({ limit: SEED_ROWS }));
  return ranges;
}

/** Whether every model of a set takes the features rows have today, by name and order. */
export function takesTodaysFeatures(set: ModelSet): boolean {
  return Object.values(set.metrics).every(
    (version) =>
      version.featureNames.length === FEATURE_NAMES.length &&
      version.featureNames.every((name, i) => name === FEATURE_NAMES[i]),
  );
}
