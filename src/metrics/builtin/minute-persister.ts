/**
 * Saves minute rows to the store off the hot path. Saves are fire-and-forget for the caller;
 * failures go to `report`, and `settle()` waits for what is in flight (shutdown, queries).
 */
import type { MetricHistoryStore, MetricMinute } from '../../store/store.js';
import { Accumulator } from './accumulator.js';
import { decodeSketch } from './sketch-codec.js';

const MINUTE_MS = 60_000;
const SECONDS_PER_MINUTE = 60;

type RowsByRevision = ReadonlyMap<string, MetricMinute>;
const NONE: RowsByRevision = new Map();
const rowKey = (row: MetricMinute): string => `${row.service}\u0000${row.revision}`;

/** Must not throw: it is called from promise handlers nobody else observes. */
export type Report = (code: string, message: string, cause: unknown) => void;

export class MinutePersister {
  private readonly store: MetricHistoryStore;
  private readonly report: Report;
  /** Start of the minute the collector started in, when it started after that minute began. */
  private readonly joinedMinute: number | null;
  /** Seconds of the joined minute that went by before the collector started. */
  private readonly secondsBefore: number;
  private inherited: Promise<RowsByRevision> | null = null;
  private tail: Promise<void> = Promise.resolve();

  constructor(store: MetricHistoryStore, report: Report, startedAt: number) {
    this.store = store;
    this.report = report;
    const minute = Math.floor(startedAt / MINUTE_MS) * MINUTE_MS;
    this.joinedMinute = minute === startedAt ? null : minute;
    this.secondsBefore = Math.floor((startedAt - minute) / 1000);
  }

  /** Rows are built by the caller before this returns, so later ring writes cannot leak in. */
  persist(rows: readonly MetricMinute[]): void {
    if (rows.length === 0) return;
    const joined = this.joinedMinute;
    const complete =
      joined !== null && rows.some((r) => r.minute === joined)
        ? this.inheritedRows(joined).then((before) =>
            rows.map((r) => (r.minute === joined ? this.fold(before, r) : r)),
          )
        : Promise.resolve(rows);
    // One save at a time, in order: a partial minute saved late must not replace the complete one.
    this.tail = this.tail
      .then(() => complete)
      .then((out) => this.store.saveMetricMinutes(out))
      .catch((cause: unknown) =>
        this.report('METRICS_PERSIST_FAILED', 'could not persist metric minutes', cause),
      );
  }

  /** Resolves once every save requested so far, and any requested meanwhile, has finished. */
  async settle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }

  /**
   * A restart in the middle of a minute would otherwise replace the previous run's row for that
   * minute with this run's part of it: read those rows once and fold them into every save.
   */
  private inheritedRows(minute: number): Promise<RowsByRevision> {
    this.inherited ??= Promise.resolve()
      .then(() => this.store.metricHistory({ from: minute, to: minute + MINUTE_MS }))
      .then((rows) => new Map(rows.filter((r) => r.minute === minute).map((r) => [rowKey(r), r])))
      .catch((cause: unknown) => {
        this.report('METRICS_HISTORY_FAILED', 'could not read the metrics saved before start', cause);
        return NONE;
      });
    return this.inherited;
  }

  private fold(before: RowsByRevision, row: MetricMinute): MetricMinute {
    const earlier = before.get(rowKey(row));
    if (earlier === undefined) return row;
    const acc = new Accumulator();
    acc.addMinute(earlier, decodeSketch(earlier.sketch), this.secondsBefore);
    acc.addMinute(row, decodeSketch(row.sketch), SECONDS_PER_MINUTE - this.secondsBefore);
    return acc.minute(row.service, row.revision, row.minute);
  }
}
