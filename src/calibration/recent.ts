/**
 * What production showed a service lately, as features of its next window: per metric, the level,
 * spread and newest of its recent targets (the log ratio of observed over simulated for latency
 * and CPU, the log error rate for errors). A service's own traits that no profile measures — its cache
 * behaviour under real traffic, its garbage collector, a noisy neighbour, a slowly growing
 * dataset — show in these before the model is retrained, and a new revision starts from its
 * service's record until it has one of its own.
 */
import {
  MODEL_METRICS,
  type ModelMetric,
  type ModelRow,
  NO_RECENT,
  type RecentFigures,
  type RecentRecord,
  targetOf,
} from './features.js';

/** How far back a window counts as recent. */
export const RECENT_SPAN_MS = 2 * 3_600_000;
/** The newest this many recent windows are summarised. */
export const RECENT_ROWS = 60;
/** A revision's own record replaces its service's once it has this many recent windows. */
export const RECENT_OWN_FROM = 3;

/** Where a record is looked up: a running model's memory of its rows (CalibratedRanges.recent). */
export type RecentLookup = (service: string, revision: string, at: number) => RecentRecord;

interface Entry {
  readonly at: number;
  readonly revision: string;
  /** Per metric (MODEL_METRICS' order), the window's target, or null. */
  readonly targets: readonly (number | null)[];
}

/** Windows kept per service: enough for a canary's own record beside a busy stable's. */
const KEPT_PER_SERVICE = 8 * RECENT_ROWS;

/**
 * The recent windows of every service, fed in time order (`add`), asked for the record as of a
 * time (`record`): only windows that started before it count, so a row's features never include
 * the row itself.
 */
export class RecentResiduals {
  private readonly services = new Map<string, Entry[]>();

  add(row: ModelRow): void {
    const entry: Entry = {
      at: row.at,
      revision: row.revision,
      targets: MODEL_METRICS.map((m) => targetOf(m, row.simulated[m], row.observed[m])),
    };
    const entries = this.services.get(row.service) ?? [];
    entries.push(entry);
    // Rows arrive in time order, give or take a batch: the list stays sorted by insertion.
    let drop = 0;
    while (drop < entries.length && (entries[drop] as Entry).at < entry.at - RECENT_SPAN_MS) drop++;
    drop = Math.max(drop, entries.length - KEPT_PER_SERVICE);
    if (drop > 0) entries.splice(0, drop);
    this.services.set(row.service, entries);
  }

  /** Feeds rows oldest first. */
  addAll(rows: readonly ModelRow[]): void {
    for (const row of rows) this.add(row);
  }

  /** The record of `revision` of `service` as of `at`: its own windows, else its service's. */
  record(service: string, revision: string, at: number): RecentRecord {
    const entries = this.services.get(service);
    if (entries === undefined) return NO_RECENT;
    const inSpan = entries.filter((e) => e.at < at && e.at >= at - RECENT_SPAN_MS);
    const own = inSpan.filter((e) => e.revision === revision);
    const chosen = (own.length >= RECENT_OWN_FROM ? own : inSpan).slice(-RECENT_ROWS);
    if (chosen.length === 0) return NO_RECENT;
    const figures = {} as Record<ModelMetric, RecentFigures>;
    MODEL_METRICS.forEach((metric, j) => {
      const values: number[] = [];
      for (const e of chosen) {
        const v = e.targets[j];
        if (v !== null && v !== undefined && Number.isFinite(v)) values.push(v);
      }
      if (values.length === 0) {
        figures[metric] = NO_RECENT.figures[metric];
        return;
      }
      const last = values[values.length - 1] as number;
      values.sort((a, b) => a - b);
      figures[metric] = {
        level: quantileOf(values, 0.5),
        spread: quantileOf(values, 0.75) - quantileOf(values, 0.25),
        last,
      };
    });
    return { windows: chosen.length, own: own.length >= RECENT_OWN_FROM, figures };
  }
}

/** Linear interpolation between order statistics of sorted values. */
function quantileOf(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const lo = sorted[below] as number;
  const hi = sorted[Math.min(sorted.length - 1, below + 1)] as number;
  return lo + (hi - lo) * (position - below);
}
