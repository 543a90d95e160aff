import type { ReleaseEvent } from '../controller/core/events.js';
import type { ReleasePhase } from '../controller/core/types.js';
import type { Store } from '../store/store.js';
import type { DataPlane, DataPlaneEvent } from './dataplane.js';
import type { Family, Sample } from './prometheus.js';
import { renderFamilies } from './prometheus.js';

const PHASES: readonly ReleasePhase[] = ['running', 'promoted', 'rolled-back', 'aborted', 'mixed'];

/** Counts per label set, kept in first-seen order and printed sorted. */
class Counter {
  private readonly values = new Map<string, { labels: Record<string, string>; value: number }>();

  add(labels: Record<string, string>, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { labels, value: by });
    else entry.value += by;
  }

  samples(): Sample[] {
    return [...this.values.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, { labels, value }]) => ({ labels, value }));
  }
}

/**
 * Augur's own metrics for `/metrics`: counters fed by the release events and the data plane's
 * events as they happen (since this process started), gauges read from the store and the router
 * when scraped.
 */
export class ServerMetrics {
  private readonly startedAt: number;
  private readonly events = new Counter();
  private readonly decisions = new Counter();
  private readonly restarts = new Counter();
  private readonly crashes = new Counter();
  private ticks = 0;
  private streams = 0;
  private routerFailures = 0;

  constructor(startedAt: number = Date.now()) {
    this.startedAt = startedAt;
  }

  onReleaseEvent(event: ReleaseEvent): void {
    this.events.add({ type: event.type });
    if (event.type === 'observation') this.ticks += 1;
    if (event.type === 'router-failed') this.routerFailures += 1;
    if (event.type === 'decision' && event.signal !== null) this.decisions.add({ signal: event.signal });
  }

  /** An event stream opened; returns its closer. */
  streamOpened(): () => void {
    this.streams += 1;
    let open = true;
    return () => {
      if (open) this.streams -= 1;
      open = false;
    };
  }

  onPlaneEvent(event: DataPlaneEvent): void {
    if (event.type === 'restarting') this.restarts.add({ service: event.service, revision: event.revision });
    if (event.type === 'crashed') this.crashes.add({ service: event.service, revision: event.revision });
  }

  async render(plane: DataPlane, store: Store): Promise<string> {
    const byPhase = new Map<string, number>(PHASES.map((p) => [p, 0]));
    for (const record of await store.listReleases()) {
      byPhase.set(record.phase, (byPhase.get(record.phase) ?? 0) + 1);
    }
    const weights: Sample[] = [];
    for (const split of await plane.splits()) {
      const canary = split.canary === null ? 0 : split.canaryWeight / 10_000;
      weights.push({ labels: { service: split.service, revision: split.stable }, value: 1 - canary });
      if (split.canary !== null)
        weights.push({ labels: { service: split.service, revision: split.canary }, value: canary });
    }
    const families: Family[] = [
      {
        name: 'augur_start_time_seconds',
        help: 'When this Augur process started, seconds since the epoch.',
        type: 'gauge',
        samples: [{ value: this.startedAt / 1000 }],
      },
      {
        name: 'augur_releases',
        help: 'Releases in the store, by phase.',
        type: 'gauge',
        samples: [...byPhase].map(([phase, value]) => ({ labels: { phase }, value })),
      },
      {
        name: 'augur_release_events_total',
        help: 'Release events recorded since this process started, by type.',
        type: 'counter',
        samples: this.events.samples(),
      },
      {
        name: 'augur_controller_ticks_total',
        help: 'Controller ticks that analysed a window of observations (one per changed service per tick).',
        type: 'counter',
        samples: [{ value: this.ticks }],
      },
      {
        name: 'augur_controller_decisions_total',
        help: 'Controller decisions, by signal (GREEN, YELLOW, RED, HOLD).',
        type: 'counter',
        samples: this.decisions.samples(),
      },
      {
        name: 'augur_router_failures_total',
        help: 'Times the router refused or failed to apply a weight the controller asked for.',
        type: 'counter',
        samples: [{ value: this.routerFailures }],
      },
      {
        name: 'augur_requests_total',
        help: 'Requests through the builtin router since this process started, by service, revision and outcome.',
        type: 'counter',
        samples: plane.requests.snapshot().map((c) => ({
          labels: { service: c.service, revision: c.revision, outcome: c.outcome },
          value: c.count,
        })),
      },
      {
        name: 'augur_traffic_weight_ratio',
        help: "Share of a service's traffic the router sends to a revision (0 to 1).",
        type: 'gauge',
        samples: weights,
      },
      {
        name: 'augur_process_restarts_total',
        help: 'Restarts of crashed revision processes, by service and revision.',
        type: 'counter',
        samples: this.restarts.samples(),
      },
      {
        name: 'augur_process_crashes_total',
        help: 'Revision processes that exited unexpectedly, by service and revision.',
        type: 'counter',
        samples: this.crashes.samples(),
      },
      {
        name: 'augur_sse_clients',
        help: 'Event streams currently open.',
        type: 'gauge',
        samples: [{ value: this.streams }],
      },
    ];
    return renderFamilies(families);
  }
}
