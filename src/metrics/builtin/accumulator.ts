/**
 * Folds 1-second windows (from the ring) and stored minutes (from the store) into one aggregate.
 * Feed it in time order: the last memory sample seen is the one reported.
 */
import type { DDSketch } from '@datadog/sketches-js';
import type { MetricMinute } from '../../store/store.js';
import type { WindowAggregate } from '../provider.js';
import { countAbove, mergeInto, quantileOf } from './sketch.js';
import { encodeSketch } from './sketch-codec.js';
import type { WindowRing } from './window-ring.js';

const SECONDS_PER_MINUTE = 60;

export class Accumulator {
  private requests = 0;
  private errors = 0;
  private timeouts = 0;
  private resets = 0;
  private inflightMax = 0;
  private windows = 0;
  private latencySum = 0;
  private latencyCount = 0;
  private latencyMax = -Infinity;
  private cpuSum = 0;
  private cpuWeight = 0;
  private rss: number | null = null;
  private sketch: DDSketch | null = null;
  private logCount = 0;
  private logSum = 0;
  private logSumSq = 0;
  /** Stored minutes keep no log-latency moments: once one with requests is folded in, unknown. */
  private logKnown = true;

  /** True when nothing was folded in: no request, no activity, no process sample. */
  get empty(): boolean {
    return this.requests === 0 && this.windows === 0 && this.cpuWeight === 0 && this.rss === null;
  }

  addWindow(ring: WindowRing, i: number): void {
    this.requests += ring.requests[i] ?? 0;
    this.errors += ring.errors[i] ?? 0;
    this.timeouts += ring.timeouts[i] ?? 0;
    this.resets += ring.resets[i] ?? 0;
    this.inflightMax = Math.max(this.inflightMax, ring.inflightMax[i] ?? 0);
    if (ring.active[i] === 1) this.windows++;
    const sketch = ring.sketches[i];
    if (sketch) {
      this.latencySum += sketch.sum;
      this.latencyCount += sketch.count;
      this.latencyMax = Math.max(this.latencyMax, sketch.max);
      this.sketch = mergeInto(this.sketch, sketch);
    }
    this.logCount += ring.logCount[i] ?? 0;
    this.logSum += ring.logSum[i] ?? 0;
    this.logSumSq += ring.logSumSq[i] ?? 0;
    const cpu = ring.cpuCores[i] ?? Number.NaN;
    if (!Number.isNaN(cpu)) {
      this.cpuSum += cpu;
      this.cpuWeight++;
    }
    const rss = ring.rssBytes[i] ?? Number.NaN;
    if (!Number.isNaN(rss)) this.rss = rss;
  }

  /**
   * A stored minute keeps neither resets, in-flight maxima nor its count of active windows, so
   * those stay as the ring windows alone report them; its max latency comes from the sketch's
   * top bucket (within the sketch's relative accuracy).
   * @param seconds how much time the row covers, to weigh its CPU mean against other samples
   */
  addMinute(row: MetricMinute, sketch: DDSketch | null, seconds = SECONDS_PER_MINUTE): void {
    this.requests += row.requests;
    this.errors += row.errors;
    this.timeouts += row.timeouts;
    if (row.requests > 0) this.logKnown = false;
    if (row.latencyMeanMs !== null && row.requests > 0) {
      this.latencySum += row.latencyMeanMs * row.requests;
      this.latencyCount += row.requests;
    }
    if (sketch && sketch.count > 0) {
      this.latencyMax = Math.max(this.latencyMax, sketch.max);
      this.sketch = mergeInto(this.sketch, sketch);
    }
    if (row.cpuCores !== null && seconds > 0) {
      // A row's CPU is the mean of one-second samples: weigh it as that many samples.
      this.cpuSum += row.cpuCores * seconds;
      this.cpuWeight += seconds;
    }
    if (row.rssBytes !== null) this.rss = row.rssBytes;
  }

  quantile(q: number): number | null {
    return quantileOf(this.sketch, q);
  }

  /** The merged latency sketch, or null when no request ended. */
  mergedSketch(): DDSketch | null {
    return this.sketch;
  }

  exceedances(thresholdMs: number): { total: number; above: number } {
    if (this.sketch === null) return { total: 0, above: 0 };
    return { total: this.sketch.count, above: countAbove(this.sketch, thresholdMs) };
  }

  meanLatency(): number | null {
    return this.latencyCount > 0 ? this.latencySum / this.latencyCount : null;
  }

  cpuCores(): number | null {
    return this.cpuWeight > 0 ? this.cpuSum / this.cpuWeight : null;
  }

  result(service: string, revision: string, from: number, to: number): WindowAggregate {
    return {
      service,
      revision,
      from,
      to,
      requests: this.requests,
      errors: this.errors,
      timeouts: this.timeouts,
      resets: this.resets,
      errorRate: this.requests > 0 ? this.errors / this.requests : null,
      latency: {
        p50: this.quantile(0.5),
        p95: this.quantile(0.95),
        p99: this.quantile(0.99),
        mean: this.meanLatency(),
        max: this.sketch === null ? null : this.latencyMax,
      },
      inflightMax: this.inflightMax,
      cpuCores: this.cpuCores(),
      rssBytes: this.rss,
      windows: this.windows,
      logLatency: this.logKnown ? { n: this.logCount, sum: this.logSum, sumSq: this.logSumSq } : null,
    };
  }

  /** What one minute persists. */
  minute(service: string, revision: string, minute: number): MetricMinute {
    return {
      service,
      revision,
      minute,
      requests: this.requests,
      errors: this.errors,
      timeouts: this.timeouts,
      latencyP50Ms: this.quantile(0.5),
      latencyP95Ms: this.quantile(0.95),
      latencyP99Ms: this.quantile(0.99),
      latencyMeanMs: this.meanLatency(),
      cpuCores: this.cpuCores(),
      rssBytes: this.rss,
      sketch: this.sketch === null ? null : encodeSketch(this.sketch),
    };
  }
}
