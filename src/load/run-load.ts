import { Agent, request } from 'node:http';
import type { ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AugurError } from '../core/errors.js';
import { SeededRandom } from '../core/random.js';
import { KEY_HEADER } from '../router/builtin/request-key.js';
import type { LoadProfile, ProfileKind } from './profile.js';
import {
  DEFAULT_PERIOD_MS,
  DEFAULT_SPIKE_FACTOR,
  DEFAULT_TROUGH_FRACTION,
  nextArrivalMs,
  peakRate,
  rateAt,
} from './profile.js';
import type { LatencySummary } from './reservoir.js';
import { DEFAULT_RESERVOIR_SIZE, Reservoir } from './reservoir.js';
import { loopbackTarget } from './target.js';

/** The header the router sets on every answer: which revision served it. */
export const REVISION_HEADER = 'x-augur-revision';

export interface RunLoadOptions {
  /** Base URL on this machine (loopback only), e.g. `http://127.0.0.1:8080/`. */
  readonly target: string;
  /** Default `constant`. */
  readonly profile?: ProfileKind;
  /** Requests per second: the constant rate, the spike's base, or the diurnal peak. */
  readonly rate: number;
  /** How long new requests are sent. In-flight requests then get up to `timeoutMs` to finish. */
  readonly durationMs: number;
  /** Most requests sent. Default: 3 × the peak rate × the duration. */
  readonly maxRequests?: number;
  /** Arrivals while this many requests are in flight are dropped and counted. Default 256. */
  readonly maxInFlight?: number;
  /** Distinct sticky keys sent as `x-augur-key` (`user-0` … `user-N-1`). Default 1000. */
  readonly users?: number;
  /** Overrides the target's path (and query). */
  readonly path?: string;
  /** Default `GET`. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Seeds arrivals and key choice: the same seed gives the same schedule. Default 1. */
  readonly seed?: number;
  /** Diurnal: one compressed day. Default 60 s. */
  readonly periodMs?: number;
  /** Diurnal: trough as a fraction of the peak. Default 0.3. */
  readonly troughFraction?: number;
  /** Spike: multiplier of the base rate. Default 2. */
  readonly spikeFactor?: number;
  /** Spike: start. Default 40% into the run. */
  readonly spikeAtMs?: number;
  /** Spike: length. Default 20% of the run. */
  readonly spikeMs?: number;
  /** Per-request timeout; a request that passes it counts as a network error. Default 10 s. */
  readonly timeoutMs?: number;
  /** Default 1000. */
  readonly progressIntervalMs?: number;
  /** Latency sample size. Default 100,000. */
  readonly reservoirSize?: number;
  /** Stops early: no more arrivals, in-flight requests are cut and counted as `aborted`. */
  readonly signal?: AbortSignal;
}

export interface LoadSnapshot {
  readonly elapsedMs: number;
  readonly sent: number;
  readonly completed: number;
  readonly dropped: number;
  readonly errors: number;
  readonly inFlight: number;
  /** The profile's rate now (req/s). */
  readonly targetRate: number;
  /** Responses per second since the previous snapshot. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Observers of a run; a hook that throws ends the run with its error. */
export interface LoadHooks {
  onProgress?(snapshot: LoadSnapshot): void;
}

export type LoadStopReason = 'duration' | 'maxRequests' | 'signal';

export interface LoadReport {
  readonly target: string;
  readonly profile: LoadProfile;
  readonly seed: number;
  /** Requests sent. */
  readonly sent: number;
  /** Requests answered (any status). */
  readonly completed: number;
  /** Arrivals not sent because `maxInFlight` requests were already in flight. */
  readonly dropped: number;
  /** Requests cut by the abort signal. */
  readonly aborted: number;
  /** Answers by HTTP status, e.g. `{ "200": 950, "503": 3 }`. */
  readonly statusCounts: Readonly<Record<string, number>>;
  /** 5xx answers plus network errors. */
  readonly errors: number;
  /** Connection failures, resets and timeouts. */
  readonly networkErrors: number;
  /** Of answers, in milliseconds, until the last byte. */
  readonly latencyMs: LatencySummary;
  /** Time during which new requests were sent. */
  readonly durationMs: number;
  /** Answers per second over `durationMs`. */
  readonly achievedRps: number;
  /** Answers by `x-augur-revision` (answers without the header are not counted here). */
  readonly revisions: Readonly<Record<string, number>>;
  readonly stoppedBy: LoadStopReason;
}

interface Settings {
  readonly url: URL;
  readonly profile: LoadProfile;
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly maxInFlight: number;
  readonly users: number;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly seed: number;
  readonly timeoutMs: number;
  readonly progressIntervalMs: number;
  readonly reservoirSize: number;
}

function invalid(message: string): AugurError {
  return new AugurError('LOAD_INVALID_OPTIONS', message);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw invalid(`${name} must be a positive number, got ${value}`);
  return value;
}

function wholePositive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw invalid(`${name} must be a positive whole number, got ${value}`);
  return value;
}

/** Resolves the profile with its defaults; throws LOAD_INVALID_OPTIONS. */
export function profileOf(options: RunLoadOptions): LoadProfile {
  const rate = positive('rate', options.rate);
  const kind = options.profile ?? 'constant';
  switch (kind) {
    case 'constant':
      return { kind, rate };
    case 'diurnal': {
      const troughFraction = options.troughFraction ?? DEFAULT_TROUGH_FRACTION;
      if (!(troughFraction >= 0 && troughFraction <= 1)) throw invalid(`troughFraction must be in [0, 1]`);
      return {
        kind,
        rate,
        periodMs: positive('periodMs', options.periodMs ?? DEFAULT_PERIOD_MS),
        troughFraction,
      };
    }
    case 'spike': {
      const spikeAtMs = options.spikeAtMs ?? options.durationMs * 0.4;
      if (!(spikeAtMs >= 0 && Number.isFinite(spikeAtMs)))
        throw invalid(`spikeAtMs must be a time from the start`);
      return {
        kind,
        rate,
        spikeFactor: positive('spikeFactor', options.spikeFactor ?? DEFAULT_SPIKE_FACTOR),
        spikeAtMs,
        spikeMs: positive('spikeMs', options.spikeMs ?? options.durationMs * 0.2),
      };
    }
    default:
      throw invalid(`profile must be constant, diurnal or spike, got ${String(kind)}`);
  }
}

function settingsOf(options: RunLoadOptions): Settings {
  const url = loopbackTarget(options.target);
  if (options.path !== undefined) {
    if (!options.path.startsWith('/')) throw invalid(`path must start with /, got ${options.path}`);
    const { pathname, search } = new URL(options.path, url);
    url.pathname = pathname;
    url.search = search;
  }
  const durationMs = positive('durationMs', options.durationMs);
  const profile = profileOf(options);
  const defaultMax = Math.max(1, Math.ceil((peakRate(profile) * durationMs * 3) / 1000));
  return {
    url,
    profile,
    durationMs,
    maxRequests: wholePositive('maxRequests', options.maxRequests ?? defaultMax),
    maxInFlight: wholePositive('maxInFlight', options.maxInFlight ?? 256),
    users: wholePositive('users', options.users ?? 1000),
    method: (options.method ?? 'GET').toUpperCase(),
    headers: options.headers ?? {},
    seed: options.seed ?? 1,
    timeoutMs: positive('timeoutMs', options.timeoutMs ?? 10_000),
    progressIntervalMs: positive('progressIntervalMs', options.progressIntervalMs ?? 1000),
    reservoirSize: wholePositive('reservoirSize', options.reservoirSize ?? DEFAULT_RESERVOIR_SIZE),
  };
}

/**
 * Sends open-loop traffic (Poisson arrivals following the profile) to a loopback target for a
 * bounded time and number of requests, and reports what came back — including how many answers
 * each revision served, which is how a user sees the canary's share.
 *
 * Throws AugurError LOAD_TARGET_NOT_LOOPBACK, LOAD_TARGET_INVALID or LOAD_INVALID_OPTIONS before
 * sending anything.
 */
export function runLoad(options: RunLoadOptions, hooks: LoadHooks = {}): Promise<LoadReport> {
  let settings: Settings;
  try {
    settings = settingsOf(options);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return new LoadRun(settings, hooks, options.signal).run();
}

class LoadRun {
  private readonly settings: Settings;
  private readonly hooks: LoadHooks;
  private readonly signal: AbortSignal | undefined;
  private readonly arrivals: SeededRandom;
  private readonly latencies: Reservoir;
  private readonly agent: Agent;
  private readonly inFlight = new Set<ClientRequest>();
  private readonly statusCounts: Record<string, number> = {};
  private readonly revisions: Record<string, number> = {};

  private sent = 0;
  private completed = 0;
  private dropped = 0;
  private aborted = 0;
  private serverErrors = 0;
  private networkErrors = 0;
  private start = 0;
  private issuingMs = 0;
  private nextAt = Infinity;
  private stoppedBy: LoadStopReason | null = null;
  private lastProgress = { at: 0, completed: 0 };
  private arrivalTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private settle: ((failure?: Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(settings: Settings, hooks: LoadHooks, signal: AbortSignal | undefined) {
    this.settings = settings;
    this.hooks = hooks;
    this.signal = signal;
    this.arrivals = new SeededRandom(settings.seed);
    // Its own stream: which latencies are kept depends on completion order, the schedule must not.
    this.latencies = new Reservoir(settings.reservoirSize, new SeededRandom(settings.seed ^ 0x5bd1e995));
    this.agent = new Agent({ keepAlive: true, maxSockets: settings.maxInFlight, scheduling: 'lifo' });
  }

  async run(): Promise<LoadReport> {
    const done = new Promise<void>((resolve, reject) => {
      this.settle = (failure?: Error) => (failure === undefined ? resolve() : reject(failure));
    });
    const onAbort = (): void => this.stop('signal');
    this.signal?.addEventListener('abort', onAbort, { once: true });
    this.start = performance.now();
    try {
      if (this.signal?.aborted === true) {
        this.stop('signal');
      } else {
        this.progressTimer = setInterval(() => this.progress(), this.settings.progressIntervalMs);
        this.nextAt = nextArrivalMs(this.settings.profile, this.arrivals, 0, this.settings.durationMs);
        this.tick();
      }
      await done;
    } finally {
      this.signal?.removeEventListener('abort', onAbort);
      clearTimeout(this.arrivalTimer);
      clearInterval(this.progressTimer);
      for (const req of this.inFlight) req.destroy();
      this.agent.destroy();
    }
    return this.report();
  }

  private elapsed(): number {
    return performance.now() - this.start;
  }

  /** Sends every arrival that is due (catching up if the event loop was late), then sleeps to the next. */
  private tick(): void {
    this.arrivalTimer = undefined;
    if (this.stoppedBy !== null) return;
    const now = this.elapsed();
    const { profile, durationMs, maxRequests, users } = this.settings;
    while (this.nextAt <= now) {
      if (this.sent >= maxRequests) {
        this.stop('maxRequests');
        return;
      }
      // The key is drawn for dropped arrivals too, so the schedule does not depend on the target.
      const user = Math.floor(this.arrivals.next() * users);
      if (this.inFlight.size >= this.settings.maxInFlight) this.dropped++;
      else this.send(`user-${user}`);
      this.nextAt = nextArrivalMs(profile, this.arrivals, this.nextAt, durationMs);
    }
    if (now >= durationMs) {
      this.stop('duration');
      return;
    }
    const wait = Math.min(this.nextAt, durationMs) - now;
    this.arrivalTimer = setTimeout(() => this.tick(), Math.max(0, wait));
  }

  private send(key: string): void {
    const { url, method, headers, timeoutMs } = this.settings;
    const started = performance.now();
    this.sent++;
    let finished = false;
    const req = request(url, { agent: this.agent, method, headers: { ...headers, [KEY_HEADER]: key } });
    const end = (): void => {
      finished = true;
      clearTimeout(timer);
      this.inFlight.delete(req);
      this.checkDrained();
    };
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    this.inFlight.add(req);
    const failed = (): void => {
      if (finished) return;
      if (this.stoppedBy === 'signal') this.aborted++;
      else this.networkErrors++;
      end();
    };
    req.on('response', (res) => {
      res.on('error', failed);
      res.on('end', () => {
        if (finished) return;
        const status = res.statusCode ?? 0;
        this.completed++;
        this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
        if (status >= 500) this.serverErrors++;
        const revision = res.headers[REVISION_HEADER];
        if (typeof revision === 'string') this.revisions[revision] = (this.revisions[revision] ?? 0) + 1;
        this.latencies.add(performance.now() - started);
        end();
      });
      res.resume();
    });
    req.on('error', failed);
    // Cut mid-answer, a request may close without an error: it still must leave the in-flight set.
    req.on('close', failed);
    req.end();
  }

  private stop(reason: LoadStopReason): void {
    if (this.stoppedBy !== null && reason !== 'signal') return;
    if (this.stoppedBy === null) {
      this.stoppedBy = reason;
      this.issuingMs = Math.min(this.elapsed(), this.settings.durationMs);
    } else {
      // A signal after the arrivals ended only cuts the requests still waiting.
      this.stoppedBy = 'signal';
    }
    clearTimeout(this.arrivalTimer);
    if (reason === 'signal') {
      for (const req of [...this.inFlight]) req.destroy(new Error('load stopped'));
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.stoppedBy !== null && this.inFlight.size === 0) this.settle?.(this.failure);
  }

  private progress(): void {
    const now = this.elapsed();
    const summary = this.latencies.summary();
    const snapshot: LoadSnapshot = {
      elapsedMs: now,
      sent: this.sent,
      completed: this.completed,
      dropped: this.dropped,
      errors: this.serverErrors + this.networkErrors,
      inFlight: this.inFlight.size,
      targetRate: this.stoppedBy === null ? rateAt(this.settings.profile, now) : 0,
      rps:
        now > this.lastProgress.at
          ? ((this.completed - this.lastProgress.completed) * 1000) / (now - this.lastProgress.at)
          : 0,
      p50Ms: summary.p50,
      p99Ms: summary.p99,
    };
    this.lastProgress = { at: now, completed: this.completed };
    try {
      this.hooks.onProgress?.(snapshot);
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.stop('signal');
    }
  }

  private report(): LoadReport {
    const durationMs = this.issuingMs;
    return {
      target: this.settings.url.href,
      profile: this.settings.profile,
      seed: this.settings.seed,
      sent: this.sent,
      completed: this.completed,
      dropped: this.dropped,
      aborted: this.aborted,
      statusCounts: { ...this.statusCounts },
      errors: this.serverErrors + this.networkErrors,
      networkErrors: this.networkErrors,
      latencyMs: this.latencies.summary(),
      durationMs,
      achievedRps: durationMs > 0 ? (this.completed * 1000) / durationMs : 0,
      revisions: { ...this.revisions },
      stoppedBy: this.stoppedBy ?? 'duration',
    };
  }
}
