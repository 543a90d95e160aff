import type { RequestObserver, RequestOutcome } from '../metrics/observer.js';

export interface RequestCount {
  readonly service: string;
  readonly revision: string;
  readonly outcome: RequestOutcome;
  readonly count: number;
}

/**
 * Counts every request the router reports, per service × revision × outcome, since the process
 * started, and passes it on. The builtin metrics keep windows for decisions; Prometheus wants
 * monotonic counters, which windows cannot give.
 */
export class RequestCounter implements RequestObserver {
  private readonly next: RequestObserver;
  private readonly counts = new Map<
    string,
    { service: string; revision: string; n: Map<RequestOutcome, number> }
  >();

  constructor(next: RequestObserver) {
    this.next = next;
  }

  requestStarted(service: string, revision: string): void {
    this.next.requestStarted(service, revision);
  }

  requestEnded(
    service: string,
    revision: string,
    latencyMs: number,
    status: number,
    outcome: RequestOutcome,
  ): void {
    const key = `${service}\u0000${revision}`;
    let entry = this.counts.get(key);
    if (entry === undefined) {
      entry = { service, revision, n: new Map() };
      this.counts.set(key, entry);
    }
    entry.n.set(outcome, (entry.n.get(outcome) ?? 0) + 1);
    this.next.requestEnded(service, revision, latencyMs, status, outcome);
  }

  snapshot(): RequestCount[] {
    const out: RequestCount[] = [];
    for (const { service, revision, n } of this.counts.values()) {
      for (const [outcome, count] of n) out.push({ service, revision, outcome, count });
    }
    return out.sort(
      (a, b) =>
        a.service.localeCompare(b.service) ||
        a.revision.localeCompare(b.revision) ||
        a.outcome.localeCompare(b.outcome),
    );
  }
}
