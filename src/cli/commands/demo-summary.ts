import { describeDiscarded } from '../../controller/core/mitigation.js';
import type { DiscardedChanges, ReleasePhase, ReleaseState } from '../../controller/core/types.js';
import type { ReleaseConfig } from '../../config/types.js';
import type { MetricsProvider } from '../../metrics/provider.js';
import type { StoredEvent, Store } from '../../store/store.js';
import { fixed, table } from '../format.js';

/** What one changed service of a demo release did. */
export interface DemoServiceSummary {
  readonly service: string;
  readonly revision: string;
  /** How its track ended: promoted, rolled-back, … */
  readonly outcome: string;
  /** Highest tier (percent) its canary reached. */
  readonly tierReached: number;
  /** From the release's start to this service's final decision. */
  readonly timeToDecisionMs: number | null;
  /**
   * Requests its canary served from the release's start until its traffic was withdrawn, and how
   * many failed: every user the canary reached, including those whose requests were in flight, or
   * arrived before the router applied the rollback, when it was decided.
   */
  readonly canaryRequests: number;
  readonly canaryErrors: number;
  /**
   * What the decisions had seen of the canary: the windows the controller analysed, up to its
   * final decision. The RED message's counts are these; `canaryErrors` may be higher by the
   * failures after the last analysed window.
   */
  readonly decidedOn: { readonly requests: number; readonly errors: number };
  readonly reason: string | null;
  /** Named the culprit when it was rolled back. */
  readonly culprit: boolean;
}

export interface DemoReleaseSummary {
  readonly release: string;
  /** The first changed service, its revision and figures (every service: `services`). */
  readonly service: string;
  readonly revision: string;
  /** How the release ended: `mixed` when some services were promoted and others rolled back. */
  readonly outcome: ReleasePhase;
  readonly tierReached: number;
  readonly timeToDecisionMs: number | null;
  readonly canaryRequests: number;
  readonly canaryErrors: number;
  readonly reason: string | null;
  /** Every changed service: how it ended, the tier it reached, when, its canary's figures, why. */
  readonly services: readonly DemoServiceSummary[];
  /** The release's mitigation, when it declared backups: what was found and how the data ended. */
  readonly mitigation: {
    readonly status: string;
    readonly rounds: number;
    readonly backups: number;
    /** What the failing checks said (empty when every check passed). */
    readonly checkFailures: readonly string[];
    /**
     * Rows written or changed since the backup that the restores discarded, over every mitigation;
     * 0 when nothing was restored, null when a restore could not count them.
     */
    readonly discardedRows: number | null;
    readonly discarded: readonly ({ readonly name: string } & DiscardedChanges)[];
  } | null;
  /** What `predict` said before the rollout, when it ran. */
  readonly prediction: {
    readonly riskScore: number;
    readonly breachTier: number | null;
    readonly summary: string;
    /** Changed services whose new revision's own figures breach a limit in the prediction. */
    readonly blamed: readonly string[];
  } | null;
}

/** The summary of a finished demo release, from its state, its events and the canaries' metrics. */
export async function summarize(
  plane: { provider: MetricsProvider; store: Store },
  spec: ReleaseConfig,
  state: ReleaseState,
  outcome: ReleasePhase,
  started: number,
): Promise<Omit<DemoReleaseSummary, 'prediction'>> {
  const events = await plane.store.releaseEvents(spec.name);
  const culprits = new Set(
    events
      .filter((e) => e.type === 'rollback-started')
      .map((e) => (e.data as { culprit?: unknown }).culprit)
      .filter((c): c is string => typeof c === 'string'),
  );
  const from = Math.floor(started / 1000) * 1000;
  const to = Math.ceil(Date.now() / 1000) * 1000;
  const services: DemoServiceSummary[] = [];
  for (const track of state.tracks) {
    const tiers = track.tiers.filter((t) => t.startedAt !== null).map((t) => t.share);
    const ended = track.tiers.map((t) => t.endedAt ?? 0).reduce((a, b) => Math.max(a, b), 0);
    const canary = await plane.provider.aggregate({
      service: track.service,
      revision: track.canary,
      from,
      to,
    });
    services.push({
      service: track.service,
      revision: track.canary,
      outcome: track.phase,
      tierReached: tiers.length === 0 ? 0 : Math.max(...tiers),
      timeToDecisionMs: ended > 0 ? ended - state.createdAt : null,
      canaryRequests: canary.requests,
      canaryErrors: canary.errors,
      decidedOn: observed(events, track.service),
      reason: track.reason,
      culprit: culprits.has(track.service),
    });
  }
  const first = services[0];
  const m = state.mitigation;
  const discarded = (m?.discarded ?? []).map((d) => ({ name: d.name, ...d.changes }));
  return {
    release: spec.name,
    service: first?.service ?? '',
    revision: first?.revision ?? '',
    outcome,
    tierReached: first?.tierReached ?? 0,
    timeToDecisionMs: first?.timeToDecisionMs ?? null,
    canaryRequests: first?.canaryRequests ?? 0,
    canaryErrors: first?.canaryErrors ?? 0,
    reason: first?.reason ?? null,
    services,
    mitigation:
      m === undefined
        ? null
        : {
            status: m.status,
            rounds: m.round,
            backups: m.backups.length,
            checkFailures: checkFailures(events),
            discardedRows: discarded.some((d) => d.rows === null)
              ? null
              : discarded.reduce((n, d) => n + (d.rows ?? 0), 0),
            discarded,
          },
  };
}

/** The canary's requests and failures in the windows the controller analysed for `service`. */
function observed(events: readonly StoredEvent[], service: string): { requests: number; errors: number } {
  let requests = 0;
  let errors = 0;
  for (const e of events) {
    if (e.type !== 'observation' || e.service !== service) continue;
    const canary = (e.data as { canary?: { requests?: unknown; errors?: unknown } }).canary;
    requests += typeof canary?.requests === 'number' ? canary.requests : 0;
    errors += typeof canary?.errors === 'number' ? canary.errors : 0;
  }
  return { requests, errors };
}

/** What the data checks that failed said, in the order they ran. */
function checkFailures(events: readonly StoredEvent[]): string[] {
  const said: string[] = [];
  for (const e of events) {
    if (e.type !== 'mitigation') continue;
    const data = e.data as {
      step?: unknown;
      outcome?: { results?: readonly { name: string; ok: boolean; detail: string }[] };
    };
    if (data.step !== 'check' && data.step !== 'recheck') continue;
    for (const r of data.outcome?.results ?? []) if (!r.ok) said.push(`${r.name}: ${r.detail}`);
  }
  return said;
}

/**
 * The demo's closing table: one row per changed service (a release of several has one each), then
 * what its data mitigation found and did, the load and the time taken.
 */
export function formatSummary(
  summaries: readonly DemoReleaseSummary[],
  load: { sent: number; errors: number; p99Ms: number | null },
  durationMs: number,
): string {
  const rows: string[][] = [];
  for (const s of summaries) {
    s.services.forEach((x, i) => {
      rows.push([
        i === 0 ? s.release : '',
        `${x.service} ${x.revision}`,
        x.outcome + (x.culprit ? ' (culprit)' : ''),
        `${x.tierReached}%`,
        fixed(x.timeToDecisionMs === null ? null : x.timeToDecisionMs / 1000, 1),
        String(x.canaryRequests),
        String(x.canaryErrors),
        String(x.decidedOn.errors),
      ]);
    });
  }
  const header = [
    'release',
    'change',
    'outcome',
    'tier',
    'decided in s',
    'canary requests',
    'failed',
    'failed when decided',
  ];
  const lines = table(header, rows)
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`);
  lines.push(
    '',
    '  tier: the highest its canary reached; decided in: from the release’s start to that change’s last decision;',
    '  failed: until its traffic was withdrawn; failed when decided: in the windows its decisions had analysed',
    '  (the counts a RED message gives; the rest were in flight, or came before the router applied the rollback)',
  );
  for (const s of summaries)
    if (s.mitigation !== null) lines.push('', ...mitigationLines(s.release, s.mitigation));
  lines.push(
    '',
    `  load: ${load.sent} page views, ${load.errors} errors, p99 ${fixed(load.p99Ms, 1)} ms`,
    `  the demo took ${fixed(durationMs / 1000, 0)} s`,
  );
  return `\nsummary\n${lines.join('\n')}\n`;
}

const DATA_OUTCOME: Readonly<Record<string, string>> = {
  ok: 'the data checks pass: nothing restored',
  restored: 'restored from the backup taken before the first tier, and verified',
  manual: 'held for a manual restore',
  failed: 'NOT known to be sound: the release is held',
  ready: 'not checked',
};

/** What a release's data mitigation found, did and threw away, a line each. */
function mitigationLines(release: string, m: NonNullable<DemoReleaseSummary['mitigation']>): string[] {
  const lines = [`  ${release}, its data:`];
  for (const failure of m.checkFailures) lines.push(`    check failed: ${failure}`);
  lines.push(`    ${DATA_OUTCOME[m.status] ?? m.status}`);
  for (const d of m.discarded) lines.push(`    ${d.name}: ${describeDiscarded(d)}`);
  return lines;
}
