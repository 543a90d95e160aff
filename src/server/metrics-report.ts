import type { WindowAggregate } from '../metrics/provider.js';
import type { DataPlane } from './dataplane.js';

export interface MetricsRow {
  readonly service: string;
  readonly revision: string;
  readonly role: 'stable' | 'canary' | 'other';
  /** Configured share of the service's traffic, percent. */
  readonly weightPercent: number;
  /** Observed share of the service's requests in the window, percent (null without requests). */
  readonly observedPercent: number | null;
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
  readonly from: number;
  readonly to: number;
  readonly rows: readonly MetricsRow[];
}

/**
 * Per service × revision over the last `windowMs` up to now, the current second included (so a
 * request just served is counted): what `augur metrics` prints.
 */
export async function metricsReport(
  plane: DataPlane,
  windowMs: number,
  only?: string,
): Promise<MetricsReportBody> {
  const now = Date.now();
  const to = Math.floor(now / 1000) * 1000 + 1000;
  const from = to - Math.ceil(windowMs / 1000) * 1000;
  const splits = await plane.splits();
  const rows: MetricsRow[] = [];
  for (const service of Object.values(plane.application.services)) {
    if (only !== undefined && service.name !== only) continue;
    const split = splits.find((s) => s.service === service.name);
    const seen = new Set(
      (await plane.provider.revisions()).filter((r) => r.service === service.name).map((r) => r.revision),
    );
    seen.add(service.stable);
    if (split?.canary != null) seen.add(split.canary);
    const aggregates: WindowAggregate[] = [];
    for (const revision of [...seen].sort()) {
      aggregates.push(await plane.provider.aggregate({ service: service.name, revision, from, to }));
    }
    const total = aggregates.reduce((sum, a) => sum + a.requests, 0);
    for (const a of aggregates) {
      const canaryWeight = split?.canary === a.revision ? split.canaryWeight : 0;
      const role =
        a.revision === service.stable ? 'stable' : split?.canary === a.revision ? 'canary' : 'other';
      const weight = role === 'stable' ? 10_000 - (split?.canaryWeight ?? 0) : canaryWeight;
      rows.push({
        service: service.name,
        revision: a.revision,
        role,
        weightPercent: weight / 100,
        observedPercent: total > 0 ? (100 * a.requests) / total : null,
        requests: a.requests,
        rps: a.requests / ((now - from) / 1000),
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
