import type { ApplicationConfig } from '../config/types.js';
import { median } from '../stats/index.js';
import type { MetricMinute } from '../store/store.js';

/**
 * The production workload as stored history describes it: what the scenarios scale. Rates are
 * requests per second at the application's entrypoint.
 */
export interface Workload {
  /** Typical rate: the median of the minutes that saw traffic. */
  readonly nominalRatePerSec: number;
  /** Highest minute seen. */
  readonly peakRatePerSec: number;
  /**
   * Mean rate by hour of day (UTC) as a multiple of the overall mean, 24 values; null with less than
   * a day of history.
   */
  readonly dailyShape: readonly number[] | null;
  /** Coefficient of variation of per-minute rates (0: perfectly steady). */
  readonly burstiness: number;
  /** Requests each service receives per entry request (the observed call mix), by service. */
  readonly requestMix: Readonly<Record<string, number>>;
  /** The history behind the figures, or null when there was none (defaults were used). */
  readonly history: { readonly minutes: number; readonly from: number; readonly to: number } | null;
}

export interface WorkloadDefaults {
  /** Rate assumed when no history exists (or too little). */
  readonly ratePerSec: number;
  /** Fewer minutes of entry traffic than this are too little to describe the workload. Default 10. */
  readonly minMinutes?: number;
}

export const MIN_HISTORY_MINUTES = 10;

const MINUTE_MS = 60_000;

/**
 * Reduces per-minute history rows (all services and revisions) to a Workload. Minutes without a
 * request at the entrypoint are ignored: they are gaps in recording, not evidence of idle hours.
 */
export function workloadFromHistory(
  app: ApplicationConfig,
  rows: readonly MetricMinute[],
  defaults: WorkloadDefaults,
): Workload {
  const perMinute = new Map<number, Map<string, number>>();
  for (const row of rows) {
    let services = perMinute.get(row.minute);
    if (services === undefined) perMinute.set(row.minute, (services = new Map<string, number>()));
    services.set(row.service, (services.get(row.service) ?? 0) + row.requests);
  }
  const minutes = [...perMinute.entries()]
    .map(([minute, services]) => ({ minute, entry: services.get(app.entrypoint) ?? 0, services }))
    .filter((m) => m.entry > 0)
    .sort((a, b) => a.minute - b.minute);
  if (minutes.length === 0 || minutes.length < (defaults.minMinutes ?? MIN_HISTORY_MINUTES)) {
    return {
      nominalRatePerSec: defaults.ratePerSec,
      peakRatePerSec: defaults.ratePerSec,
      dailyShape: null,
      burstiness: 0,
      requestMix: configuredMix(app),
      history: null,
    };
  }
  const rates = minutes.map((m) => m.entry / 60);
  const sorted = [...rates].sort((a, b) => a - b);
  const nominal = median(sorted);
  const peak = sorted[sorted.length - 1] ?? nominal;
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const variance = rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length;

  const entryTotal = minutes.reduce((a, m) => a + m.entry, 0);
  const mix: Record<string, number> = {};
  for (const name of Object.keys(app.services)) {
    const total = minutes.reduce((a, m) => a + (m.services.get(name) ?? 0), 0);
    mix[name] = total / entryTotal;
  }

  const first = minutes[0]?.minute ?? 0;
  const last = minutes[minutes.length - 1]?.minute ?? first;
  return {
    nominalRatePerSec: nominal,
    peakRatePerSec: peak,
    dailyShape: last - first >= 24 * 60 * MINUTE_MS ? hourlyShape(minutes, mean) : null,
    burstiness: mean > 0 ? Math.sqrt(variance) / mean : 0,
    requestMix: mix,
    history: { minutes: minutes.length, from: first, to: last + MINUTE_MS },
  };
}

/** Requests per entry request implied by the configured dependency model. */
export function configuredMix(app: ApplicationConfig): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const name of Object.keys(app.services)) mix[name] = 0;
  const visit = (name: string, multiplier: number, depth: number): void => {
    const service = app.services[name];
    if (service === undefined || depth > 64) return;
    mix[name] = (mix[name] ?? 0) + multiplier;
    for (const call of service.calls) visit(call.service, multiplier * call.perRequest, depth + 1);
  };
  visit(app.entrypoint, 1, 0);
  return mix;
}

function hourlyShape(minutes: readonly { minute: number; entry: number }[], mean: number): number[] {
  const sums = new Array<number>(24).fill(0);
  const counts = new Array<number>(24).fill(0);
  for (const m of minutes) {
    const hour = new Date(m.minute).getUTCHours();
    sums[hour] = (sums[hour] ?? 0) + m.entry / 60;
    counts[hour] = (counts[hour] ?? 0) + 1;
  }
  return sums.map((s, h) => {
    const n = counts[h] ?? 0;
    return n > 0 && mean > 0 ? s / n / mean : 1;
  });
}
