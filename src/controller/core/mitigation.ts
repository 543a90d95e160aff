import { plural } from '../../core/plural.js';
import type { Step } from './release.js';
import { endIfDone, isTerminal, Transition } from './release.js';
import type { DiscardedChanges, MitigationState, ReleaseState } from './types.js';

/** What the engine reports back after running the pending mitigation step. */
export interface MitigationOutcome {
  readonly ok: boolean;
  /** One line per mitigation: what its check or restore said (a restore: what it discarded). */
  readonly results: readonly {
    readonly name: string;
    readonly ok: boolean;
    readonly detail: string;
    readonly discarded?: DiscardedChanges;
  }[];
}

/**
 * After a service is rolled back, a release with backups checks its data: the step is recorded as
 * pending (so a controller that dies meanwhile runs it again after a restart: checks only read,
 * restores copy the same backup over the same target) and the engine is asked to run it. A rollback
 * that completes while a step is pending is recorded too, and gets a round of its own after it.
 */
export function startMitigation(t: Transition, service: string): void {
  const m = t.state.mitigation;
  if (m === undefined || m.backups.length === 0) return;
  if (m.pending !== null) {
    // The step under way may have read the data before this service's last writes.
    m.next = service;
    t.event(
      'mitigation',
      service,
      `${service} rolled back while the data is being checked: the data is checked again once this step ends`,
      null,
      { step: 'queued', round: m.round },
    );
    return;
  }
  startRound(t, m, service);
}

function startRound(t: Transition, m: MitigationState, service: string): void {
  m.pending = 'check';
  m.round += 1;
  m.trigger = service;
  t.event('mitigation', service, `checking the data after ${service}'s rollback (${names(m)})`, null, {
    step: 'check',
    round: m.round,
  });
  t.actions.push({ type: 'mitigate', step: 'check' });
}

/**
 * The pending step's outcome: a check that passes ends the mitigation; a failing one leads to the
 * restore (when every failing mitigation restores automatically), then to a second check. A restore
 * or second check that fails — or a manual restore — holds every service still rolling out and
 * says so: data is not known to be sound.
 */
export function mitigationDone(state: ReleaseState, outcome: MitigationOutcome, now: number): Step {
  const t = new Transition(state, now);
  const m = t.state.mitigation;
  if (m === undefined || m.pending === null) return t.done();
  const step = m.pending;
  const said = outcome.results.map((r) => `${r.name}: ${r.detail}`).join('; ');
  const service = m.trigger;
  if (step === 'check' && outcome.ok) {
    m.pending = null;
    m.status = 'ok';
    t.event('mitigation', service, `data checks pass after the rollback (${said})`, 'GREEN', {
      step,
      outcome,
    });
  } else if (step === 'check') {
    const failing = outcome.results.filter((r) => !r.ok).map((r) => r.name);
    if (failing.every((name) => m.auto.includes(name))) {
      m.pending = 'restore';
      t.event('mitigation', service, `data check failed (${said}): restoring from the backup`, 'RED', {
        step,
        outcome,
      });
      t.actions.push({ type: 'mitigate', step: 'restore' });
    } else {
      m.pending = null;
      m.status = 'manual';
      hold(t, `data check failed (${said}) and the restore is manual: restore from ${paths(m)}, then resume`);
    }
  } else if (step === 'restore' && outcome.ok) {
    keepDiscarded(m, outcome, now);
    m.pending = 'recheck';
    t.event('mitigation', service, `restored (${said}): checking again`, null, { step, outcome });
    t.actions.push({ type: 'mitigate', step: 'recheck' });
  } else if (step === 'restore') {
    // A restore that failed for one mitigation may have worked for another: its discards count.
    keepDiscarded(m, outcome, now);
    m.pending = null;
    m.status = 'failed';
    hold(t, `the restore failed (${said}): the data is not known to be sound`);
  } else if (outcome.ok) {
    m.pending = null;
    m.status = 'restored';
    t.event('mitigation', service, `data restored and verified (${said})${discardedSoFar(m)}`, 'GREEN', {
      step,
      outcome,
      discarded: m.discarded ?? [],
    });
  } else {
    m.pending = null;
    m.status = 'failed';
    hold(t, `the data still fails its check after the restore (${said})`);
  }
  const next = m.next ?? null;
  if (m.pending === null && next !== null) {
    m.next = null;
    // Data held as unsound waits for an operator anyway; sound data is checked again.
    if (m.status === 'ok' || m.status === 'restored') startRound(t, m, next);
  }
  endIfDone(t);
  return t.done();
}

/** Records what each restore discarded, the latest per mitigation (its count covers the earlier ones). */
function keepDiscarded(m: MitigationState, outcome: MitigationOutcome, now: number): void {
  for (const r of outcome.results) {
    if (r.discarded === undefined) continue;
    const others = (m.discarded ?? []).filter((d) => d.name !== r.name);
    m.discarded = [...others, { name: r.name, at: now, changes: r.discarded }];
  }
}

/** `; …` naming what the restores threw away (what was written since the backup), or nothing. */
function discardedSoFar(m: MitigationState): string {
  const lines = (m.discarded ?? []).map(({ name, changes }) => {
    const what =
      changes.rows === null
        ? 'what was written since the backup was discarded, not counted'
        : `${plural(changes.rows, 'row')} written or changed since the backup discarded`;
    const kept = changes.kept.at(-1);
    return `${name}: ${what}${kept === undefined ? '' : ` (the data before the restore is in ${kept})`}`;
  });
  return lines.length === 0 ? '' : `; ${lines.join('; ')}`;
}

/**
 * What a restore discarded, in words: how many rows written since the backup (per table), how
 * many deleted since were put back, and where the data before the restore was kept.
 */
export function describeDiscarded(d: DiscardedChanges): string {
  const since = `since the backup (${clock(d.since)})`;
  if (d.rows === null) {
    const what = `what was written ${since} is discarded, not counted${d.note === null ? '' : ` (${d.note})`}`;
    return d.kept.length === 0 ? what : `${what}; the data before the restore kept in ${d.kept.join(', ')}`;
  }
  const tables = Object.entries(d.tables).map(([table, n]) => `${table} ${n}`);
  const parts = [
    `${plural(d.rows, 'row')} written or changed ${since} discarded${tables.length > 0 ? ` (${tables.join(', ')})` : ''}`,
  ];
  if (d.reverted !== null && d.reverted > 0)
    parts.push(`${plural(d.reverted, 'row')} deleted or changed since put back`);
  if (d.kept.length > 0) parts.push(`the data before the restore kept in ${d.kept.join(', ')}`);
  if (d.note !== null) parts.push(d.note);
  return parts.join('; ');
}

/** A time of day in UTC, for messages: the stored events carry the exact times. */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

/** Every service still rolling out is paused; the event says why, in one place. */
function hold(t: Transition, why: string): void {
  const held: string[] = [];
  for (const track of t.state.tracks) {
    if (isTerminal(track) || track.phase === 'rolling-back' || track.phase === 'promoting') continue;
    track.phase = 'paused';
    track.heldByRelease = 'mitigation';
    track.reason = `held: ${why}`;
    const tier = track.tiers[track.tierIndex];
    if (tier !== undefined) tier.status = 'paused';
    held.push(track.service);
  }
  t.event(
    'mitigation',
    null,
    `mitigation failed: ${why}${held.length > 0 ? `; holding ${held.join(', ')}` : ''}`,
    'RED',
    { held },
  );
}

function names(m: MitigationState): string {
  return m.backups.map((b) => b.name).join(', ');
}

function paths(m: MitigationState): string {
  return m.backups.map((b) => b.path).join(', ');
}
