import type { ApplicationConfig, ServiceConfig } from '../config/types.js';
import { fnv1a } from '../core/hash.js';
import type { MetricsProvider, WindowAggregate } from '../metrics/provider.js';
import {
  buildFeatures,
  type MetricValues,
  type ModelRow,
  NO_RECENT,
  type RecentRecord,
  simulatedValues,
  type WindowProfile,
} from './features.js';
import type { RecentLookup } from './recent.js';
import { simulateWindow } from './simulate-window.js';

export interface IngestOptions {
  /** Length of one row's window; default 10 s. */
  readonly windowMs?: number;
  /** How far back a revision's profile is measured, before the window; default 60 s. */
  readonly profileWindowMs?: number;
  /** Requests a window needs to become a row; default 5. */
  readonly minWindowRequests?: number;
  /** Requests the profile window needs; default 20. */
  readonly minProfileRequests?: number;
}

const DEFAULTS: Required<IngestOptions> = {
  windowMs: 10_000,
  profileWindowMs: 60_000,
  minWindowRequests: 5,
  minProfileRequests: 20,
};

/**
 * Turns metrics windows into training rows: for each service × revision that served requests in a
 * window, the simulator's values at that window's load from the revision's profile measured just
 * before it, beside what the window showed. Runs whether or not a release is rolling out.
 */
export class WindowIngestor {
  private readonly app: ApplicationConfig;
  private readonly provider: MetricsProvider;
  private readonly options: Required<IngestOptions>;
  private readonly firstSeen = new Map<string, number>();
  private lastTo: number | null = null;

  constructor(app: ApplicationConfig, provider: MetricsProvider, options: IngestOptions = {}) {
    this.app = app;
    this.provider = provider;
    this.options = { ...DEFAULTS, ...options };
  }

  get windowMs(): number {
    return this.options.windowMs;
  }

  /**
   * Rows of every whole window that ended by `now` and was not read yet (at most the last few, so
   * a long pause does not turn into a burst of work). Windows are aligned to `windowMs`. `recent`
   * gives each row what production showed its service before (nothing without it).
   */
  async rows(now: number, recent?: RecentLookup): Promise<ModelRow[]> {
    const { windowMs } = this.options;
    const end = Math.floor(now / windowMs) * windowMs;
    const first = Math.max(this.lastTo ?? end - windowMs, end - 6 * windowMs);
    const out: ModelRow[] = [];
    for (let to = first + windowMs; to <= end; to += windowMs)
      out.push(...(await this.window(to - windowMs, to, recent)));
    if (end > (this.lastTo ?? Number.NEGATIVE_INFINITY)) this.lastTo = end;
    return out;
  }

  /** The rows of one window [from, to). */
  async window(from: number, to: number, recent?: RecentLookup): Promise<ModelRow[]> {
    const out: ModelRow[] = [];
    for (const service of Object.values(this.app.services)) {
      for (const revision of Object.keys(service.revisions)) {
        const range = { service: service.name, revision };
        const now = await this.provider.aggregate({ ...range, from, to });
        if (now.requests < this.options.minWindowRequests) continue;
        const key = `${service.name}\u0000${revision}`;
        if (!this.firstSeen.has(key)) this.firstSeen.set(key, from);
        const before = await this.provider.aggregate({
          ...range,
          from: from - this.options.profileWindowMs,
          to: from,
        });
        const row = windowRow(service, revision, now, before, {
          minProfileRequests: this.options.minProfileRequests,
          revisionAgeHours: (from - (this.firstSeen.get(key) ?? from)) / 3_600_000,
          recent: recent?.(service.name, revision, from) ?? NO_RECENT,
        });
        if (row !== null) out.push(row);
      }
    }
    return out;
  }
}

/**
 * The row of one window: the simulator at `window`'s load from the profile measured in `before`
 * (which may be another revision's: a canary predicted from its stable), beside what `window`
 * showed. Null when `before` is too thin to profile.
 */
export function windowRow(
  service: ServiceConfig,
  revision: string,
  window: WindowAggregate,
  before: WindowAggregate,
  options: {
    readonly minProfileRequests?: number;
    readonly revisionAgeHours?: number;
    /** What production showed the service before this window. */
    readonly recent?: RecentRecord;
  } = {},
): ModelRow | null {
  const profile = profileOf(before, options.minProfileRequests ?? DEFAULTS.minProfileRequests);
  if (profile === null) return null;
  const { from, to } = window;
  const ratePerSec = window.requests / Math.max(1e-3, (to - from) / 1000);
  const load = {
    ratePerSec,
    replicas: service.resources.replicas,
    concurrency: service.resources.concurrency,
    cpuPerReplica: service.resources.cpu,
    timeoutMs: service.policies.timeoutMs,
    errorProbability: before.errorRate ?? 0,
  };
  const simulated = simulateWindow(load, profile, seedOf(`${service.name}\u0000${revision}`, from));
  const features = buildFeatures({
    at: from,
    ratePerSec,
    replicas: load.replicas,
    concurrency: load.concurrency,
    cpuPerReplica: load.cpuPerReplica,
    profile,
    simulated,
    revisionAgeHours: options.revisionAgeHours ?? 0,
    recent: options.recent ?? NO_RECENT,
  });
  return {
    service: service.name,
    revision,
    at: from,
    windowMs: to - from,
    requests: window.requests,
    features,
    simulated: simulatedValues(simulated, profile.cpuMsPerRequest > 0),
    observed: observedOf(window),
  };
}

/** A revision's profile from the window before: null without enough requests or latency. */
function profileOf(before: WindowAggregate, minRequests: number): WindowProfile | null {
  const { p50, p95 } = before.latency;
  if (before.requests < minRequests || p50 === null || p95 === null) return null;
  const seconds = (before.to - before.from) / 1000;
  const cpuMsPerRequest =
    before.cpuCores === null || before.requests === 0
      ? 0
      : (before.cpuCores * seconds * 1000) / before.requests;
  return { p50Ms: p50, p95Ms: p95, cpuMsPerRequest };
}

function observedOf(w: WindowAggregate): MetricValues {
  return {
    latencyP50Ms: w.latency.p50,
    latencyP95Ms: w.latency.p95,
    latencyP99Ms: w.latency.p99,
    errorRate: w.errorRate,
    cpuCores: w.cpuCores,
  };
}

/** A seed per service × revision × window: the same window always simulates the same way. */
function seedOf(key: string, from: number): number {
  return fnv1a(key, 0x811c9dc5 ^ (from / 1000)) || 1;
}
