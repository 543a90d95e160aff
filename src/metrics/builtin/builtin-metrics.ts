/**
 * The builtin metrics collector: the router reports every request here, the controller queries
 * here. Recent data lives in per-revision rings of 1-second windows; each closed minute is
 * persisted to the store, which answers for ranges the rings no longer hold.
 */
import type { DDSketch } from '@datadog/sketches-js';
import { systemClock, type Clock } from '../../core/clock.js';
import { AugurError } from '../../core/errors.js';
import type { MetricHistoryStore, MetricMinute } from '../../store/store.js';
import type { RequestObserver, RequestOutcome } from '../observer.js';
import {
  checkQuantile,
  checkRange,
  type ExceedanceQuery,
  type Exceedances,
  type MetricsProvider,
  type QuantileQuery,
  type RangeQuery,
  type RevisionSeen,
  type WindowAggregate,
} from '../provider.js';
import { Accumulator } from './accumulator.js';
import { ProcessSampler, type ProcessLister } from './process-sampler.js';
import { procfs, type ProcReader } from './procfs.js';
import { MinutePersister, type Report } from './minute-persister.js';
import { decodeSketch } from './sketch-codec.js';
import { WindowRing } from './window-ring.js';

export interface BuiltinMetricsOptions {
  /** Defaults to the system clock; tests and replays pass their own. */
  readonly clock?: Clock;
  /** Where closed minutes go and where older history comes from; none keeps metrics in memory. */
  readonly store?: MetricHistoryStore;
  /** The revisions' processes, for CPU and memory; none leaves both unknown. */
  readonly processes?: ProcessLister;
  /** Seconds of 1-s windows kept in memory per revision (default 900, at least 120). */
  readonly ringSeconds?: number;
  /** Receives persistence and sampling failures, which are never thrown at the caller. */
  readonly onError?: (error: AugurError) => void;
  /** Overrides /proc access (tests). */
  readonly proc?: ProcReader;
}

export const DEFAULT_RING_SECONDS = 900;
// A minute is persisted after it closes, so the ring must still hold all of it then.
const MIN_RING_SECONDS = 120;
const MINUTE_MS = 60_000;

interface Revision {
  readonly service: string;
  readonly revision: string;
  lastSeen: number;
  /** Released when every window has expired, so idle revisions cost no ring memory. */
  ring: WindowRing | null;
}

export class BuiltinMetrics implements RequestObserver, MetricsProvider {
  private readonly clock: Clock;
  private readonly store: MetricHistoryStore | undefined;
  private readonly sampler: ProcessSampler | undefined;
  private readonly capacity: number;
  private readonly byService = new Map<string, Map<string, Revision>>();
  /** First second this collector observed: the rings hold nothing older. */
  private readonly firstSecond: number;
  /** Seconds only move forward, so a clock stepping back cannot reuse a newer ring slot. */
  private lastSecond: number;
  /** Start of the oldest minute not yet persisted as closed. */
  private persistedTo: number;
  private readonly persister: MinutePersister | undefined;
  private readonly report: Report;
  private timer: NodeJS.Timeout | undefined;
  /** The entry recorded to last (entries are never removed, only their rings). */
  private lastEntry: Revision | null = null;

  constructor(options: BuiltinMetricsOptions) {
    this.clock = options.clock ?? systemClock;
    this.store = options.store;
    this.sampler = options.processes && new ProcessSampler(options.processes, options.proc ?? procfs);
    const capacity = options.ringSeconds ?? DEFAULT_RING_SECONDS;
    if (!Number.isInteger(capacity) || capacity < MIN_RING_SECONDS) {
      throw new AugurError(
        'METRICS_RING_TOO_SMALL',
        `ringSeconds must be an integer of at least ${MIN_RING_SECONDS}, got ${capacity}`,
      );
    }
    this.capacity = capacity;
    const onError = options.onError ?? ((e: AugurError) => process.emitWarning(e.message, { code: e.code }));
    this.report = (code, message, cause) => {
      try {
        onError(new AugurError(code, message, { cause }));
      } catch {
        // The error sink failing must not take the data plane down with it.
      }
    };
    this.firstSecond = Math.floor(this.clock.now() / 1000);
    this.persister =
      options.store && new MinutePersister(options.store, this.report, this.firstSecond * 1000);
    this.lastSecond = this.firstSecond;
    this.persistedTo = floorMinute(this.firstSecond * 1000);
  }

  // ---- RequestObserver: the hot path ----

  requestStarted(service: string, revision: string): void {
    const now = this.clock.now();
    this.ringOf(service, revision, now).started(this.secondOf(now));
  }

  requestEnded(
    service: string,
    revision: string,
    latencyMs: number,
    status: number,
    outcome: RequestOutcome,
  ): void {
    const now = this.clock.now();
    this.ringOf(service, revision, now).ended(this.secondOf(now), latencyMs, status, outcome);
  }

  private secondOf(now: number): number {
    const s = Math.floor(now / 1000);
    if (s > this.lastSecond) this.lastSecond = s;
    return this.lastSecond;
  }

  private ringOf(service: string, revision: string, now: number): WindowRing {
    // Requests come in runs for one revision: the last one's entry saves two map lookups.
    let entry = this.lastEntry;
    if (entry === null || entry.revision !== revision || entry.service !== service) {
      entry = this.entryOf(service, revision, now);
      this.lastEntry = entry;
    }
    entry.lastSeen = now;
    entry.ring ??= new WindowRing(this.capacity);
    return entry.ring;
  }

  private entryOf(service: string, revision: string, now: number): Revision {
    let revisions = this.byService.get(service);
    if (revisions === undefined) {
      revisions = new Map();
      this.byService.set(service, revisions);
    }
    let entry = revisions.get(revision);
    if (entry === undefined) {
      entry = { service, revision, lastSeen: now, ring: null };
      revisions.set(revision, entry);
    }
    return entry;
  }

  // ---- timers ----

  /** Samples processes and persists closed minutes every second until `stop()`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  /** Stops the timers and persists what has not been persisted, the current minute included. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** One sampling step: what the timer runs each second; callable directly with a manual clock. */
  tick(): void {
    const now = this.clock.now();
    const second = this.secondOf(now);
    if (this.sampler) this.sample(this.sampler, now, second);
    this.persistClosedMinutes(second);
    this.releaseIdleRings(second);
  }

  private sample(sampler: ProcessSampler, now: number, second: number): void {
    try {
      for (const u of sampler.sample(now)) {
        if (u.cpuCores === null && u.rssBytes === null) continue;
        this.ringOf(u.service, u.revision, now).sampled(second, u.cpuCores, u.rssBytes);
      }
    } catch (cause) {
      // A failing process lister costs this second's CPU figures, not the process.
      this.report('METRICS_SAMPLE_FAILED', 'could not sample the revisions’ processes', cause);
    }
  }

  /**
   * Persists closed minutes and the current, partial one, and waits for every save in flight.
   * The partial minute is saved again, complete, when it closes: rows are keyed by service,
   * revision and minute, and the later save replaces the earlier.
   */
  async flush(): Promise<void> {
    const second = this.secondOf(this.clock.now());
    this.persistClosedMinutes(second);
    this.persister?.persist(this.minuteRows(floorMinute(second * 1000)));
    await this.persister?.settle();
  }

  private persistClosedMinutes(second: number): void {
    const current = floorMinute(second * 1000);
    if (this.persistedTo >= current) return;
    // Minutes the ring no longer covers cannot be rebuilt (only possible without ticks).
    const oldest = floorMinute((second - this.capacity + 1) * 1000);
    const rows: MetricMinute[] = [];
    for (let m = Math.max(this.persistedTo, oldest); m < current; m += MINUTE_MS)
      rows.push(...this.minuteRows(m));
    this.persistedTo = current;
    this.persister?.persist(rows);
  }

  private minuteRows(minute: number): MetricMinute[] {
    const rows: MetricMinute[] = [];
    for (const entry of this.entries()) {
      const ring = entry.ring;
      if (ring === null) continue;
      const acc = new Accumulator();
      for (let s = minute / 1000; s < (minute + MINUTE_MS) / 1000; s++) {
        const i = ring.indexOf(s);
        if (i >= 0) acc.addWindow(ring, i);
      }
      if (!acc.empty) rows.push(acc.minute(entry.service, entry.revision, minute));
    }
    return rows;
  }

  private releaseIdleRings(second: number): void {
    for (const entry of this.entries()) {
      const ring = entry.ring;
      if (ring !== null && ring.inflight === 0 && ring.latest <= second - this.capacity) entry.ring = null;
    }
  }

  private *entries(): Iterable<Revision> {
    for (const revisions of this.byService.values()) yield* revisions.values();
  }

  // ---- MetricsProvider ----

  async aggregate(query: RangeQuery): Promise<WindowAggregate> {
    const acc = await this.accumulate(query);
    return acc.result(query.service, query.revision, query.from, query.to);
  }

  async quantile(query: QuantileQuery): Promise<number | null> {
    checkQuantile(query.q);
    const acc = await this.accumulate(query);
    return acc.quantile(query.q);
  }

  async exceedances(query: ExceedanceQuery): Promise<Exceedances> {
    const acc = await this.accumulate(query);
    return acc.exceedances(query.thresholdMs);
  }

  async series(query: RangeQuery): Promise<WindowAggregate[]> {
    checkRange(query);
    const out: WindowAggregate[] = [];
    const { service, revision } = query;
    await this.feed(query, {
      minute: (row, sketch) => {
        const acc = new Accumulator();
        acc.addMinute(row, sketch);
        out.push(acc.result(service, revision, row.minute, row.minute + MINUTE_MS));
      },
      window: (ring, i) => {
        const acc = new Accumulator();
        acc.addWindow(ring, i);
        const from = (ring.second[i] ?? 0) * 1000;
        out.push(acc.result(service, revision, from, from + 1000));
      },
    });
    return out;
  }

  revisions(): Promise<RevisionSeen[]> {
    const seen = [...this.entries()].map(({ service, revision, lastSeen }) => ({
      service,
      revision,
      lastSeen,
    }));
    return Promise.resolve(seen);
  }

  private async accumulate(query: RangeQuery): Promise<Accumulator> {
    checkRange(query);
    const acc = new Accumulator();
    await this.feed(query, {
      minute: (row, sketch) => acc.addMinute(row, sketch),
      window: (ring, i) => acc.addWindow(ring, i),
    });
    return acc;
  }

  /**
   * Visits the range's data oldest first: stored minutes before the split, ring windows from it.
   * The store's resolution is a minute, so a stored minute that overlaps the range counts whole —
   * unless the query is `exact`, which leaves out minutes reaching outside it.
   */
  private async feed(query: RangeQuery, sink: Sink): Promise<void> {
    const second = this.secondOf(this.clock.now());
    const split = this.historySplit(query.from, second);
    if (this.store && query.from < split) {
      // Read our own writes: a minute being saved must not fall between the ring and the store.
      await this.persister?.settle();
      const until = Math.min(query.to, split);
      const rows = await this.store.metricHistory({
        service: query.service,
        revision: query.revision,
        from: floorMinute(query.from),
        to: until,
      });
      for (const row of onePerMinute(rows, query.from, until)) {
        const straddles = row.minute < query.from || row.minute + MINUTE_MS > query.to;
        if (query.exact === true && straddles) continue;
        sink.minute(row, decodeSketch(row.sketch));
      }
    }
    const ring = this.byService.get(query.service)?.get(query.revision)?.ring;
    if (!ring) return;
    const first = Math.max(Math.max(query.from, split) / 1000, ring.latest - ring.capacity + 1);
    const end = Math.min(query.to / 1000, ring.latest + 1);
    for (let s = first; s < end; s++) {
      const i = ring.indexOf(s);
      if (i >= 0) sink.window(ring, i);
    }
  }

  /**
   * Where the store takes over from the rings. A range the rings fully cover never touches the
   * store. Otherwise the store answers up to the first minute the rings hold whole, but never
   * beyond the current minute, which has not been persisted yet.
   */
  private historySplit(from: number, second: number): number {
    if (!this.store) return -Infinity;
    const ringFrom = Math.max(this.firstSecond, second - this.capacity + 1) * 1000;
    if (from >= ringFrom) return from;
    return Math.min(ceilMinute(ringFrom), floorMinute(second * 1000));
  }
}

interface Sink {
  minute(row: MetricMinute, sketch: DDSketch | null): void;
  window(ring: WindowRing, index: number): void;
}

/**
 * Rows overlapping [from, to), one per minute, oldest first. Should a store return several rows
 * for one minute (a partial save and the complete one), the fuller row wins.
 */
function onePerMinute(rows: readonly MetricMinute[], from: number, to: number): MetricMinute[] {
  const byMinute = new Map<number, MetricMinute>();
  for (const row of rows) {
    if (row.minute + MINUTE_MS <= from || row.minute >= to) continue;
    const held = byMinute.get(row.minute);
    if (held === undefined || row.requests >= held.requests) byMinute.set(row.minute, row);
  }
  return [...byMinute.values()].sort((a, b) => a.minute - b.minute);
}

function floorMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

function ceilMinute(ms: number): number {
  return Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
}
