/**
 * The recent 1-second windows of one service × revision, in a fixed ring of typed arrays so that
 * recording a request allocates nothing (a window's sketch is allocated once, on its first
 * request). Slot i holds second s when s % capacity === i; a stale slot is reset on first write.
 */
import type { DDSketch } from '@datadog/sketches-js';
import type { RequestOutcome } from '../observer.js';
import { newLatencySketch } from './sketch.js';

const EMPTY = -1;
const MIN_LOG_LATENCY_MS = 0.001;

export class WindowRing {
  readonly capacity: number;
  /** Second held by each slot (floor(ms / 1000)), or EMPTY. */
  readonly second: Float64Array;
  readonly requests: Float64Array;
  readonly errors: Float64Array;
  readonly timeouts: Float64Array;
  readonly resets: Float64Array;
  readonly inflightMax: Float64Array;
  /** 1 when a request started or ended in the window. */
  readonly active: Uint8Array;
  /** NaN when not sampled in the window. */
  readonly cpuCores: Float64Array;
  readonly rssBytes: Float64Array;
  readonly sketches: (DDSketch | null)[];
  /** Successful requests and Σ ln(latency ms), Σ ln² over them: the log-scale comparison's input. */
  readonly logCount: Float64Array;
  readonly logSum: Float64Array;
  readonly logSumSq: Float64Array;
  /** Newest second written, or -Infinity before the first write. */
  latest = -Infinity;
  /** Requests started and not yet ended: belongs to the revision, not to any one window. */
  inflight = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.second = new Float64Array(capacity).fill(EMPTY);
    this.requests = new Float64Array(capacity);
    this.errors = new Float64Array(capacity);
    this.timeouts = new Float64Array(capacity);
    this.resets = new Float64Array(capacity);
    this.inflightMax = new Float64Array(capacity);
    this.active = new Uint8Array(capacity);
    this.cpuCores = new Float64Array(capacity).fill(Number.NaN);
    this.rssBytes = new Float64Array(capacity).fill(Number.NaN);
    this.sketches = new Array<DDSketch | null>(capacity).fill(null);
    this.logCount = new Float64Array(capacity);
    this.logSum = new Float64Array(capacity);
    this.logSumSq = new Float64Array(capacity);
  }

  /** Slot of `second`, or -1 when the ring does not hold it (never written, or overwritten). */
  indexOf(second: number): number {
    const i = second % this.capacity;
    return this.second[i] === second ? i : -1;
  }

  /** Callers pass non-decreasing seconds, so a slot is only ever reused for a newer second. */
  private slot(second: number): number {
    const i = second % this.capacity;
    if (this.second[i] !== second) {
      this.second[i] = second;
      this.requests[i] = 0;
      this.errors[i] = 0;
      this.timeouts[i] = 0;
      this.resets[i] = 0;
      // Requests still running when the window opens are in flight during it.
      this.inflightMax[i] = this.inflight;
      this.active[i] = 0;
      this.cpuCores[i] = Number.NaN;
      this.rssBytes[i] = Number.NaN;
      this.sketches[i] = null;
      this.logCount[i] = 0;
      this.logSum[i] = 0;
      this.logSumSq[i] = 0;
    }
    if (second > this.latest) this.latest = second;
    return i;
  }

  started(second: number): void {
    const i = this.slot(second);
    this.inflight++;
    this.active[i] = 1;
    if (this.inflight > (this.inflightMax[i] ?? 0)) this.inflightMax[i] = this.inflight;
  }

  ended(second: number, latencyMs: number, status: number, outcome: RequestOutcome): void {
    const i = this.slot(second);
    // An end without a start (e.g. a request begun before the collector existed) must not
    // drive the gauge negative.
    if (this.inflight > 0) this.inflight--;
    this.active[i] = 1;
    this.requests[i]!++;
    const failed = outcome !== 'ok' || status >= 500;
    if (failed) this.errors[i]!++;
    if (outcome === 'timeout') this.timeouts[i]!++;
    else if (outcome === 'reset') this.resets[i]!++;
    let sketch = this.sketches[i];
    if (sketch === null || sketch === undefined) {
      sketch = newLatencySketch();
      this.sketches[i] = sketch;
    }
    // A NaN or infinite latency would corrupt the sketch's bins; it can only come from a bug
    // upstream, and the request still counts.
    const latency = Number.isFinite(latencyMs) && latencyMs > 0 ? latencyMs : 0;
    sketch.accept(latency);
    if (!failed) {
      // Floored at 1 µs so that a zero latency (a bug upstream) cannot put −∞ into the sums.
      const l = Math.log(Math.max(latency, MIN_LOG_LATENCY_MS));
      this.logCount[i]!++;
      this.logSum[i]! += l;
      this.logSumSq[i]! += l * l;
    }
  }

  sampled(second: number, cpuCores: number | null, rssBytes: number | null): void {
    const i = this.slot(second);
    if (cpuCores !== null) this.cpuCores[i] = cpuCores;
    if (rssBytes !== null) this.rssBytes[i] = rssBytes;
  }
}
