import type { LoadReport, LoadSnapshot } from '../load/index.js';
import { fixed } from './format.js';

export function progressLine(s: LoadSnapshot): string {
  return (
    `  ${fixed(s.elapsedMs / 1000, 0).padStart(4)} s  ${fixed(s.rps, 0).padStart(5)} req/s` +
    ` (target ${fixed(s.targetRate, 0)})  p50 ${fixed(s.p50Ms, 1)} ms  p99 ${fixed(s.p99Ms, 1)} ms` +
    `  errors ${s.errors}  in flight ${s.inFlight}${s.dropped > 0 ? `  dropped ${s.dropped}` : ''}`
  );
}

export function loadReportText(r: LoadReport): string {
  const revisions = Object.entries(r.revisions)
    .map(([rev, n]) => `${rev} ${n} (${fixed((100 * n) / Math.max(1, r.completed), 2)}%)`)
    .join(', ');
  return [
    `sent ${r.sent}, answered ${r.completed}, dropped ${r.dropped}, aborted ${r.aborted} in ${fixed(r.durationMs / 1000, 1)} s` +
      ` (${fixed(r.achievedRps, 1)} req/s)`,
    `errors ${r.errors} (network ${r.networkErrors}); statuses ${Object.entries(r.statusCounts)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}`,
    `latency ms: p50 ${fixed(r.latencyMs.p50, 1)}  p95 ${fixed(r.latencyMs.p95, 1)}  p99 ${fixed(r.latencyMs.p99, 1)}  max ${fixed(r.latencyMs.max, 1)}`,
    ...(revisions !== '' ? [`served by: ${revisions}`] : []),
    `stopped by: ${r.stoppedBy}`,
    '',
  ].join('\n');
}
