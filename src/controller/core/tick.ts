import type { Analysis, Finding, Observation, PartialWindow } from './observation.js';
import type { Step } from './release.js';
import { isTerminal, startRollback, startTier, Transition } from './release.js';
import type { ReleaseState, ServiceTrack, Signal } from './types.js';

/** A canary failing at least this share of at least this many requests is rolled back outright. */
export const HARD_GUARD_ERROR_SHARE = 0.5;
export const HARD_GUARD_MIN_REQUESTS = 10;

/**
 * One tick of the adaptive rollout rule for every changed service (product rule, in order):
 * RED (a limit breached with significance, a hard guard, or risk above `risk.high`) rolls the
 * service back; YELLOW (harmful deviation from the prediction within limits) pauses and watches
 * faster; GREEN (bake met, no alarm, inside predictions, risk ≤ `risk.low`, and — before the canary
 * takes all traffic — every limit test confident it is within its limit) advances; otherwise keep
 * observing. Missing data holds, and after the outage time takes the configured action. `partial`
 * (the current, incomplete second) feeds the hard guard only. Pure: the same state, observations
 * and time give the same step.
 */
export function tick(
  state: ReleaseState,
  observations: readonly Observation[],
  analysis: Analysis,
  now: number,
  partial: readonly PartialWindow[] = [],
): Step {
  const t = new Transition(state, now);
  for (const track of t.state.tracks) {
    if (!active(track)) continue;
    // No observation: its window is not complete yet (windows are whole seconds). Not an outage:
    // a failed read arrives as an observation without data.
    const observation = observations.find((o) => o.service === track.service);
    if (observation !== undefined) {
      tickTrack(t, track, observation, analysis);
      track.lastTickAt = now;
    }
    const current = partial.find((p) => p.service === track.service);
    if (current !== undefined && active(track)) guardPartial(t, track, current);
  }
  return t.done();
}

function active(track: ServiceTrack): boolean {
  return !isTerminal(track) && track.phase !== 'rolling-back' && track.phase !== 'promoting';
}

/**
 * The hard guard on the current, incomplete second: a canary failing every request is rolled back
 * within the second instead of after the next complete window. Only the guard reads this window
 * (it is no statistical test: nothing is counted twice when the window completes).
 */
function guardPartial(t: Transition, track: ServiceTrack, p: PartialWindow): void {
  const { requests, errors } = p.canary;
  if (requests < HARD_GUARD_MIN_REQUESTS || errors / requests < HARD_GUARD_ERROR_SHARE) return;
  const finding: Finding = {
    test: 'hard-guard',
    message: `the canary failed ${errors} of ${requests} requests so far this second (≥ ${HARD_GUARD_ERROR_SHARE * 100}%)`,
    evidence: errors / requests,
  };
  decide(t, track, 'RED', finding.message, [finding]);
  startRollback(t, track, finding.message, { findings: [finding], window: { from: p.from, to: p.to } });
}

function tickTrack(t: Transition, track: ServiceTrack, observation: Observation, analysis: Analysis): void {
  const { now, state } = t;
  if (observation.canary === null || observation.stable === null) {
    hold(t, track, observation.unavailable ?? 'no data');
    return;
  }
  if (track.noDataSince !== null) {
    t.event('outage', track.service, `${track.service}: metrics are back`, null, {
      since: track.noDataSince,
    });
    track.noDataSince = null;
  }

  track.observedUntil = observation.to;
  const result = analysis.update(track.analysis, observation);
  track.analysis = result.state;
  const tier = track.tiers[track.tierIndex];
  const settled = track.appliedWeight === track.targetWeight;
  if (tier !== undefined && settled && observation.weight === tier.weight)
    tier.requests += observation.canary.requests;

  const guards = hardGuards(observation);
  const risk = observation.risk;
  if (risk !== null) {
    const forecast = observation.forecast ?? null;
    track.risk = {
      value: risk,
      breachTier: forecast?.breachTier ?? null,
      detail: forecast?.detail ?? null,
      source: 'rollout',
    };
  }
  // A predicted breach at a later tier leads the reasons: it names the failure point.
  const predicted =
    risk !== null && risk > state.risk.high ? [riskFinding(risk, state.risk.high, observation)] : [];
  const breaches = [...guards, ...predicted, ...result.breaches];
  t.event('observation', track.service, summary(observation), null, {
    from: observation.from,
    to: observation.to,
    weight: observation.weight,
    canary: observation.canary,
    stable: observation.stable,
    crashLoop: observation.crashLoop,
    predicted: observation.predicted,
    latencySplit: observation.latencySplit ?? null,
    risk,
    forecast: observation.forecast ?? null,
    breaches: breaches.map((b) => b.test),
    deviations: result.deviations.map((d) => d.test),
    withinLimits: result.withinLimits,
  });

  if (breaches.length > 0) {
    const message = breaches.map((b) => b.message).join('; ');
    decide(t, track, 'RED', message, breaches);
    startRollback(t, track, message, {
      findings: breaches,
      ...(predicted.length > 0 ? { risk, forecast: observation.forecast ?? null } : {}),
    });
    return;
  }

  if (result.deviations.length > 0) {
    track.clearSince = null;
    if (track.phase === 'progressing') {
      track.phase = 'warning';
      track.warningSince = now;
      if (tier !== undefined) tier.status = 'paused';
      const message = result.deviations.map((d) => d.message).join('; ');
      track.reason = message;
      decide(t, track, 'YELLOW', message, result.deviations);
      t.event('warning', track.service, `${track.service} ${track.canary} paused: ${message}`, 'YELLOW', {
        findings: result.deviations,
      });
    }
    return;
  }
  if (track.phase === 'warning') {
    track.clearSince ??= now;
    if (now - track.clearSince >= state.monitoring.resumeAfterMs && !track.pausedByOperator) {
      track.phase = 'progressing';
      track.warningSince = null;
      track.clearSince = null;
      track.reason = null;
      if (tier !== undefined) tier.status = 'active';
      t.event('resumed', track.service, `${track.service}: deviation cleared, resuming`, null);
    }
    return;
  }
  if (track.phase !== 'progressing' || tier === undefined || !settled) return;

  const baked =
    tier.startedAt !== null &&
    now - tier.startedAt >= tier.bake.minDurationMs &&
    tier.requests >= tier.bake.minRequests;
  // The latest risk — this window's re-prediction, else the last one, else the prediction made
  // before the rollout — must be low to go on: a high prediction not yet confirmed or refuted by
  // the canary's own figures holds the tier (it never rolls back on its own). At the last tier
  // nothing is left to predict: the limit tests decide.
  const latestRisk = risk ?? track.risk?.value ?? null;
  const lastTier = track.tierIndex >= track.tiers.length - 1;
  const confidentRisk = lastTier || latestRisk === null || latestRisk <= state.risk.low;
  // Small tiers exist to cap the harm while evidence accumulates: they advance on bake and no
  // alarm. Before the canary takes all traffic, every limit test must be confident it is within.
  const certify = track.tierIndex >= track.tiers.length - 2;
  if (baked && !confidentRisk) {
    if (track.reason === null) {
      const from = track.risk?.source === 'prediction' ? 'predicted before the rollout' : 're-predicted';
      track.reason = `${RISK_HOLD} ${tier.share}%: risk ${percent(latestRisk ?? 0)} ${from} is above ${percent(state.risk.low)}, until the canary's figures lower it`;
      decide(t, track, 'HOLD', track.reason, []);
    }
    return;
  }
  if (track.reason?.startsWith(RISK_HOLD) === true) track.reason = null;
  if (baked && confidentRisk && (!certify || result.withinLimits)) {
    decide(
      t,
      track,
      'GREEN',
      `tier ${tier.share}% baked with ${tier.requests} canary requests, ${result.withinLimits ? 'within limits' : 'no alarm'}`,
      [],
    );
    advance(t, track);
  }
}

function hold(t: Transition, track: ServiceTrack, why: string): void {
  const { now, state } = t;
  if (track.noDataSince === null) {
    track.noDataSince = now;
    decide(
      t,
      track,
      'HOLD',
      `no metrics for this window (${why}): holding, missing data is not evidence of health`,
      [],
    );
    return;
  }
  const outage = now - track.noDataSince;
  if (outage < state.monitoring.outageAfterMs) return;
  if (state.monitoring.outageAction === 'rollback') {
    const message = `no metrics for ${Math.round(outage / 1000)} s: rolling back (outage action)`;
    decide(t, track, 'RED', message, []);
    startRollback(t, track, message, { outageMs: outage });
  } else if (track.reason === null || !track.reason.startsWith('metrics outage')) {
    track.reason = `metrics outage since ${new Date(track.noDataSince).toISOString()}: holding`;
    t.event('outage', track.service, `${track.service}: ${track.reason}`, 'HOLD', {
      since: track.noDataSince,
    });
  }
}

function advance(t: Transition, track: ServiceTrack): void {
  const tier = track.tiers[track.tierIndex];
  if (tier !== undefined) {
    tier.status = 'passed';
    tier.endedAt = t.now;
  }
  const next = track.tierIndex + 1;
  if (next < track.tiers.length) {
    startTier(t, track, next);
    return;
  }
  track.phase = 'promoting';
  t.event(
    'decision',
    track.service,
    `${track.service} ${track.canary}: every tier passed, promoting`,
    'GREEN',
  );
  t.actions.push({ type: 'make-stable', service: track.service, revision: track.canary });
}

function hardGuards(o: Observation): Finding[] {
  const found: Finding[] = [];
  if (o.crashLoop)
    found.push({ test: 'hard-guard', message: 'the canary is in a crash loop', evidence: null });
  const c = o.canary;
  if (
    c !== null &&
    c.requests >= HARD_GUARD_MIN_REQUESTS &&
    c.errors / c.requests >= HARD_GUARD_ERROR_SHARE
  ) {
    found.push({
      test: 'hard-guard',
      message: `the canary failed ${c.errors} of ${c.requests} requests (≥ ${HARD_GUARD_ERROR_SHARE * 100}%)`,
      evidence: c.errors / c.requests,
    });
  }
  return found;
}

const RISK_HOLD = 'holding at tier';

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

function decide(
  t: Transition,
  track: ServiceTrack,
  signal: Signal,
  message: string,
  findings: readonly Finding[],
): void {
  t.event('decision', track.service, `${signal} ${track.service} ${track.canary}: ${message}`, signal, {
    findings,
  });
}

function summary(o: Observation): string {
  const c = o.canary;
  const s = o.stable;
  const rate = (w: typeof c): string =>
    w === null || w.requests === 0 ? '-' : `${((100 * w.errors) / w.requests).toFixed(2)}%`;
  return `${o.service} at ${o.weight / 100}%: canary ${c?.requests ?? 0} req, errors ${rate(c)}; stable ${s?.requests ?? 0} req, errors ${rate(s)}`;
}

/** RED on risk: the updated risk exceeds `risk.high`, with the forecast's failure point when known. */
function riskFinding(risk: number, high: number, observation: Observation): Finding {
  const forecast = observation.forecast ?? null;
  const where =
    forecast === null
      ? 'a breach is predicted at a later tier'
      : `${forecast.detail}${forecast.breachTier === null ? '' : ` (predicted breach at the ${forecast.breachTier}% tier)`}`;
  return {
    test: 'predicted-breach',
    message: `risk ${risk.toFixed(3)} exceeds ${high}: ${where}`,
    evidence: risk,
  };
}
