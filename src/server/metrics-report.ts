import type { WindowAggregate } from '../metrics/provider.js';
import type { DataPlane } from './dataplane.js';

export interface MetricsRow {
  readonly service: string;
  readonly revision: string;
  readonly role: 'stable' | 'canary' | 'other';
  /** Configured share of the service's traffic, percent. */
  readonly weightPercent: number;
  /**
   * Observed share of the service's requests, percent (null without requests): since
   * `observedFrom`, the later of the window's start and the split's last change, so that it compares
   * with the weight set now.
   */
  readonly observedPercent: number | null;
  readonly observedFrom: number;
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  readonly errorRate: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
  readonly cpuCores: number | null;
  readonly rssBytes: number | null;
}

export interface MetricsReportBody {
  /**
   * The window's start: `window` before `to`, or when this server started if that is later (the
   * requests it measured itself; a window reaching back further would count none and understate
   * the rate). `to` is the end of the current second.
   */
  readonly from: number;
  readonly to: number;
  readonly rows: readonly MetricsRow[];
}

/**
 * Per service × revision over the last `windowMs` up to now, the current second included (so a
 * request just served is counted), from this server's start at the earliest: what `augur metrics`
 * prints. The request rate is over that span; the observed share is over the part of it since the
 * service's split last changed.
 */
export async function metricsReport(
  plane: DataPlane,
  windowMs: number,
  only?: string,
): Promise<MetricsReportBody> {
  const now = Date.now();
  const second = (t: number): number => Math.floor(t / 1000) * 1000;
  const to = second(now) + 1000;
  const from = Math.max(to - Math.ceil(windowMs / 1000) * 1000, second(plane.startedAt));
  const spanSeconds = Math.max(1, (now - from) / 1000);
  const splits = await plane.splits();
  const changed = new Map((await plane.store.listTraffic()).map((t) => [t.service, t.updatedAt]));
  const known = await plane.provider.revisions();
  const rows: MetricsRow[] = [];
  for (const service of Object.values(plane.application.services)) {
    if (only !== undefined && service.name !== only) continue;
    const split = splits.find((s) => s.service === service.name);
    const stable = split?.stable ?? plane.stableOf(service.name);
    const seen = new Set(known.filter((r) => r.service === service.name).map((r) => r.revision));
    seen.add(stable);
    if (split?.canary != null) seen.add(split.canary);
    const revisions = [...seen].sort();
    const aggregate = (revision: string, start: number): Promise<WindowAggregate> =>
      plane.provider.aggregate({ service: service.name, revision, from: start, to });
    const aggregates: WindowAggregate[] = [];
    for (const revision of revisions) aggregates.push(await aggregate(revision, from));
    // The share since the split last changed, when that was within the window.
    const observedFrom = Math.max(from, second(changed.get(service.name) ?? 0));
    const shares: number[] = [];
    for (const [i, revision] of revisions.entries())
      shares.push(
        observedFrom === from
          ? (aggregates[i] as WindowAggregate).requests
          : (await aggregate(revision, observedFrom)).requests,
      );
    const total = shares.reduce((sum, n) => sum + n, 0);
    for (const [i, a] of aggregates.entries()) {
      const canaryWeight = split?.canary === a.revision ? split.canaryWeight : 0;
      const role = a.revision === stable ? 'stable' : split?.canary === a.revision ? 'canary' : 'other';
      const weight = role === 'stable' ? 10_000 - (split?.canaryWeight ?? 0) : canaryWeight;
      rows.push({
        service: service.name,
        revision: a.revision,
        role,
        weightPercent: weight / 100,
        observedPercent: total > 0 ? (100 * (shares[i] as number)) / total : null,
        observedFrom,
        requests: a.requests,
        rps: a.requests / spanSeconds,
        errors: a.errors,
        errorRate: a.errorRate,
        p50Ms: a.latency.p50,
        p95Ms: a.latency.p95,
        p99Ms: a.latency.p99,
        cpuCores: a.cpuCores,
        rssBytes: a.rssBytes,
      });
    }
  }
  return { from, to, rows };
}
