import { existsSync } from 'node:fs';
import type {
  ApplicationConfig,
  DeploymentConfiguration,
  ReleaseConfig,
  ServiceConfig,
} from '../config/types.js';
import { CalibratedRanges } from '../calibration/model-set.js';
import { loadRanges } from '../calibration/service.js';
import { type ModelStatus, modelStatus } from '../calibration/status.js';
import { redactSecrets } from '../core/redact.js';
import { profileRelease } from '../sandbox/index.js';
import type { ServiceProfile } from '../sim/profile.js';
import { openStore, storeFile } from '../store/open.js';
import type { MetricMinute, Store } from '../store/store.js';
import { predictRelease } from './predict.js';
import { MIN_HISTORY_MINUTES } from './workload.js';
import type { PredictOptions } from './predict.js';
import type { SimulationResult } from './types.js';

/** Fewest sandbox requests behind a profile the simulation uses. */
export const MIN_PROFILE_REQUESTS = 20;

export interface PipelineOptions extends Omit<PredictOptions, 'profiles' | 'history'> {
  /** Measure the changed revisions in a sandbox first (default true). */
  readonly sandbox?: boolean;
  /** Upper bound of the sandbox's load time, in seconds. */
  readonly sandboxSeconds?: number;
  /** How much stored history to read, back from now (ms). Default 7 days. */
  readonly historyMs?: number;
  readonly now?: number;
  /** Record the risk score in the store, to track its calibration (default true). */
  readonly record?: boolean;
  /** Progress lines for people. */
  readonly say?: (line: string) => void;
}

export interface PipelineResult {
  readonly result: SimulationResult;
  /** The prediction model's calibration as the store holds it; null without a store. */
  readonly model: ModelStatus | null;
  /** What the pipeline noticed: no history, sandbox notes, assumptions. */
  readonly notes: readonly string[];
}

/**
 * `augur predict`: reads stored history when the application's store exists (never creating one),
 * profiles the release's revisions in the sandbox, then simulates. Needs no running server.
 */
export async function predictPipeline(
  config: DeploymentConfiguration,
  release: ReleaseConfig,
  options: PipelineOptions = {},
): Promise<PipelineResult> {
  const say = options.say ?? (() => undefined);
  const notes: string[] = [];
  const store = openExistingStore(config.application.store.url);
  const app =
    store === null ? config.application : await withPromotedStables(config.application, store, notes);
  let history: MetricMinute[] = [];
  try {
    if (store === null) {
      notes.push(
        `no stored history (${redactSecrets(app.store.url)} does not exist): load assumed from --rate`,
      );
    } else {
      const now = options.now ?? Date.now();
      history = await store.metricHistory({ from: now - (options.historyMs ?? 7 * 86_400_000), to: now });
      const minutes = new Set(history.filter((r) => r.service === app.entrypoint).map((r) => r.minute)).size;
      if (options.ratePerSec !== undefined) notes.push('load from --rate, whatever the stored history says');
      else if (minutes === 0) notes.push('the store holds no metric history yet: load assumed from --rate');
      else if (minutes < MIN_HISTORY_MINUTES)
        notes.push(
          `only ${minutes} minute(s) of stored history (< ${MIN_HISTORY_MINUTES}): load assumed from --rate`,
        );
    }
    let profiles: readonly ServiceProfile[] = [];
    if (options.sandbox ?? true) {
      say(
        `sandbox: profiling ${release.changes.map((c) => `${c.service} ${c.revision}`).join(', ')} beside copies of their dependencies`,
      );
      const dataFiles = Object.fromEntries(
        Object.values(app.services)
          .filter((s) => s.data !== undefined && Object.keys(s.data).length > 0)
          .map((s) => [s.name, s.data ?? {}]),
      );
      const profiled = await profileRelease({ ...config, application: app }, release, {
        dataFiles,
        ...(store === null ? {} : { store }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.sandboxSeconds === undefined ? {} : { maxSeconds: options.sandboxSeconds }),
        onProgress: (message: string) => say(`sandbox: ${message}`),
      });
      notes.push(...profiled.notes);
      // A profile from a handful of requests is noise, not a measurement: leave it out and say so.
      profiles = profiled.profiles.filter((p) => {
        if (p.requests >= MIN_PROFILE_REQUESTS) return true;
        notes.push(
          `${p.service} ${p.revision}: only ${p.requests} requests in the sandbox, profile not used`,
        );
        return false;
      });
    } else {
      notes.push('sandbox skipped: revisions without stored history use assumed profiles');
    }
    const calibration = store === null ? new CalibratedRanges(null) : await loadRanges(store);
    const set = calibration.set;
    notes.push(
      set === null
        ? `ranges: simulation only, widened by the cold-start rule (no trained model yet; docs/model.md)`
        : `ranges: the simulation corrected by model ${set.id} (trained on ${set.rows} production windows)`,
    );
    const result = await predictRelease(app, release, {
      ...options,
      profiles,
      history,
      calibration,
      now: options.now ?? Date.now(),
    });
    if (store !== null && options.record !== false) {
      // Kept to check later how well risk scores foretold outcomes (augur model status).
      await store.savePrediction({
        release: release.name,
        predictedAt: options.now ?? Date.now(),
        risk: result.riskScore,
        breachTier: result.breachTier,
        modelId: set?.id ?? null,
      });
    }
    for (const p of result.provenance.profiles) {
      if (p.source === 'configured')
        notes.push(`${p.service} ${p.revision}: no measurement, assumed 1 ms per request`);
    }
    return { result, notes, model: store === null ? null : await modelStatus(store) };
  } finally {
    await store?.close();
  }
}

/**
 * The application as it runs now: a revision promoted by an earlier release is the stable one,
 * whatever the file says (the store records it with the traffic split).
 */
async function withPromotedStables(
  app: ApplicationConfig,
  store: Store,
  notes: string[],
): Promise<ApplicationConfig> {
  const services: Record<string, ServiceConfig> = { ...app.services };
  for (const record of await store.listTraffic()) {
    const service = services[record.service];
    const promoted = record.stableRevision;
    if (service === undefined || promoted === null || promoted === undefined || promoted === service.stable)
      continue;
    if (service.revisions[promoted] === undefined) continue;
    services[record.service] = { ...service, stable: promoted };
    notes.push(`${record.service}: ${promoted} is the stable revision now (promoted), not ${service.stable}`);
  }
  return { ...app, services };
}

function openExistingStore(url: string): Store | null {
  const file = storeFile(url);
  return file === null || !existsSync(file) ? null : openStore(url);
}
