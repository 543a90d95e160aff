/** The rates and the length of the steps of a changed service. */
import type { Store } from '../store/store.js';
import type { Timing } from './measure.js';
import type { SandboxOptions } from './options.js';

const DEFAULT_RATES = [20, 40, 80];
const PEAK_FRACTIONS = [0.5, 1, 1.5];
const HISTORY_MS = 7 * 86_400_000;
/** Fewer minutes of history than this say too little about the peak (as for `predict`'s workload). */
const MIN_HISTORY_MINUTES = 10;
/** Requests each revision should get in one step (the rate is raised to reach it). */
const MIN_REQUESTS_PER_STEP = 20;

/** The rates and step length for one candidate (the peak may come from the store's history). */
export async function timingFor(
  c: { readonly service: string },
  options: SandboxOptions,
  captured: boolean,
  candidates: number,
): Promise<Timing> {
  const maxRate = options.maxRatePerSec ?? 400;
  let rates = options.rates;
  if (rates === undefined) {
    const peak = options.peakRatePerSec?.[c.service] ?? (await historicalPeak(options.store, c.service));
    rates = peak === null ? DEFAULT_RATES : PEAK_FRACTIONS.map((f) => f * peak);
  }
  const steps = new Set(rates.map((r) => Math.round(r))).size;
  const idleMs = options.idleMs ?? 1_000;
  const warmupMs = options.warmupMs ?? 500;
  let stepMs = Math.max(1_000, Math.round((options.stepMs ?? 5_000) / 1000) * 1000);
  if (options.maxSeconds !== undefined) {
    // The revisions run side by side: a step is one window, whatever their number.
    const fixed = (captured ? (options.captureMs ?? 2_000) : 0) + candidates * (idleMs + warmupMs);
    const perStep = (options.maxSeconds * 1000 - fixed) / (candidates * steps);
    stepMs = Math.max(1_000, Math.min(stepMs, Math.floor(perStep / 1000) * 1000));
  }
  // A step must give each revision enough requests to measure: a profile from a handful of
  // requests would be noise (idle work and JIT charged to two requests).
  const floor = (MIN_REQUESTS_PER_STEP * 1000) / stepMs;
  const sorted = [...new Set(rates.map((r) => Math.round(Math.min(maxRate, Math.max(floor, 1, r)))))].sort(
    (a, b) => a - b,
  );
  return { rates: sorted, stepMs, idleMs, warmupMs };
}

/**
 * The busiest minute of a service in the stored history, in requests per second; null without
 * MIN_HISTORY_MINUTES minutes of it.
 */
async function historicalPeak(store: Store | undefined, service: string): Promise<number | null> {
  if (store === undefined) return null;
  const now = Date.now();
  const rows = await store.metricHistory({ service, from: now - HISTORY_MS, to: now });
  const perMinute = new Map<number, number>();
  for (const row of rows) perMinute.set(row.minute, (perMinute.get(row.minute) ?? 0) + row.requests);
  if (perMinute.size < MIN_HISTORY_MINUTES) return null;
  const busiest = Math.max(0, ...perMinute.values());
  return busiest > 0 ? busiest / 60 : null;
}
