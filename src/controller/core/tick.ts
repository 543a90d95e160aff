import type { Analysis, AnalysisResult, Finding, Observation, PartialWindow } from './observation.js';
import type { Step } from './release.js';
import { bakeStart, isTerminal, RISK_HOLD, startRollback, startTier, Transition } from './release.js';
import type { ReleaseState, ServiceTrack, Signal } from './types.js';

/** A canary failing at least this share of at least this many requests is rolled back outright. */
export const HARD_GUARD_ERROR_SHARE = 0.5;
export const HARD_GUARD_MIN_REQUESTS = 10;
/**
 * A tier is never baked on fewer canary requests than this, whatever `bake.minRequests` says: a
 * canary that served nothing has shown nothing, and no test can have spoken for it.
 */
export const MIN_BAKE_REQUESTS = 1;

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
  const reds: Red[] = [];
  for (const track of t.state.tracks) {
    if (!active(track)) continue;
    // No observation: its window is not complete yet (windows are whole seconds). Not an outage:
    // a failed read arrives as an observation without data.
    const observation = observations.find((o) => o.service === track.service);
    let red: Red | null = null;
    if (observation !== undefined) {
      red = tickTrack(t, track, observation, analysis);
      track.lastTickAt = now;
    }
    const current = partial.find((p) => p.service === track.service);
    if (red === null && current !== undefined && active(track)) red = guardPartial(track, current);
    if (red !== null) reds.push(red);
  }
  if (reds.length > 0) redOutcome(t, reds, analysis);
  return t.done();
}

/** A track's RED verdict in this tick, before attribution decides what is done about it. */
interface Red {
  readonly track: ServiceTrack;
  readonly message: string;
  readonly findings: readonly Finding[];
  readonly data: Record<string, unknown>;
}

/** Findings that a failing callee can cause in its callers: errors and latency. */
const INHERITABLE = new Set([
  'error-rate-limit',
  'error-regression',
  'latency-limit',
  'latency-regression',
  'hard-guard',
]);

/**
 * Fault attribution, then the release's rollback policy. A RED track whose every finding is one a
 * callee passes on (errors, latency) while a service it calls, directly or not, is itself RED in
 * this tick or being rolled back, is not the culprit: it is not rolled back, its evidence restarts
 * (what it has seen was its callee's), and the event says whose fault it was. Every other RED
 * track is a culprit and is rolled back; then the policy: 'service' lets the others go on, 'hold'
 * holds them until an operator acts, 'all' rolls them back too. Weights go to 0 callers first.
 */
function redOutcome(t: Transition, reds: readonly Red[], analysis: Analysis): void {
  const callees = t.state.callees ?? {};
  const failing = new Set<string>([
    ...reds.map((r) => r.track.service),
    ...t.state.tracks.filter((x) => x.phase === 'rolling-back').map((x) => x.service),
  ]);
  const culprits: Red[] = [];
  for (const red of reds) {
    const below = (callees[red.track.service] ?? []).filter((c) => failing.has(c));
    const inherited =
      below.length > 0 &&
      red.findings.every((f) => INHERITABLE.has(f.test) && !f.message.includes('crash loop'));
    if (!inherited) {
      culprits.push(red);
      continue;
    }
    const track = red.track;
    track.analysis = analysis.initial(track.service);
    decide(
      t,
      track,
      'HOLD',
      `not the culprit: ${red.message} — explained by ${below.join(', ')}, which it calls and which failed itself; its evidence starts afresh`,
      red.findings,
    );
  }
  if (culprits.length === 0) return;
  const policy = t.state.rollbackPolicy ?? 'service';
  const names = culprits.map((r) => `${r.track.service} ${r.track.canary}`).join(', ');
  const others = t.state.tracks.filter((x) => active(x) && !culprits.some((r) => r.track === x));
  const rollingBack = [...culprits.map((r) => r.track), ...(policy === 'all' ? others : [])];
  for (const service of callerFirst(
    rollingBack.map((x) => x.service),
    callees,
  )) {
    const red = culprits.find((r) => r.track.service === service);
    if (red === undefined) {
      const track = others.find((x) => x.service === service);
      if (track === undefined) continue;
      const message = `release policy "all": rolled back with ${names}`;
      decide(t, track, 'RED', message, []);
      startRollback(t, track, message, { policy, culprit: culprits.map((r) => r.track.service) });
      continue;
    }
    const callers = Object.entries(callees)
      .filter(([, below]) => below.includes(service))
      .map(([caller]) => caller)
      .sort();
    const blame = `${service} is the culprit: its own behaviour broke${callers.length > 0 ? ` (${callers.join(', ')} only saw it through their calls)` : ''}`;
    // With one changed service the culprit goes without saying; with several the decision names it.
    const said = t.state.tracks.length > 1 ? `${red.message} — ${blame}` : red.message;
    decide(t, red.track, 'RED', said, red.findings);
    startRollback(t, red.track, red.message, { ...red.data, culprit: service, callers, attribution: blame });
  }
  if (policy === 'hold') {
    for (const track of others) {
      if (track.phase === 'paused') continue;
      track.phase = 'paused';
      track.heldByRelease = names;
      const tier = track.tiers[track.tierIndex];
      if (tier !== undefined) tier.status = 'paused';
      track.reason = `held: ${names} rolled back (release policy "hold"); resume, promote or roll back by hand`;
      decide(t, track, 'HOLD', track.reason, []);
    }
  }
}

/** Services ordered callers before their callees (a caller never waits on a callee rolled back first). */
function callerFirst(
  services: readonly string[],
  callees: Readonly<Record<string, readonly string[]>>,
): string[] {
  return [...services].sort((a, b) => {
    if ((callees[a] ?? []).includes(b)) return -1;
    if ((callees[b] ?? []).includes(a)) return 1;
    return (callees[b]?.length ?? 0) - (callees[a]?.length ?? 0) || a.localeCompare(b);
  });
}

function active(track: ServiceTrack): boolean {
  return !isTerminal(track) && track.phase !== 'rolling-back' && track.phase !== 'promoting';
}

/**
 * The hard guard on the current, incomplete second: a canary failing every request is rolled back
 * within the second instead of after the next complete window. Only the guard reads this window
 * (it is no statistical test: nothing is counted twice when the window completes).
 */
function guardPartial(track: ServiceTrack, p: PartialWindow): Red | null {
  const { requests, errors } = p.canary;
  if (requests < HARD_GUARD_MIN_REQUESTS || errors / requests < HARD_GUARD_ERROR_SHARE) return null;
  const finding: Finding = {
    test: 'hard-guard',
    message: `the canary failed ${errors} of ${requests} requests so far this second (≥ ${HARD_GUARD_ERROR_SHARE * 100}%)`,
    evidence: errors / requests,
  };
  return {
    track,
    message: finding.message,
    findings: [finding],
    data: { findings: [finding], window: { from: p.from, to: p.to } },
  };
}

function tickTrack(
  t: Transition,
  track: ServiceTrack,
  observation: Observation,
  analysis: Analysis,
): Red | null {
  const { now, state } = t;
  if (observation.canary === null || observation.stable === null)
    return withoutData(t, track, observation, observation.unavailable ?? 'no data');
  let result: AnalysisResult;
  try {
    result = analysis.update(track.analysis, observation);
  } catch (error) {
    // Counts the tests refuse are no evidence either way: the window is treated as missing.
    const why = `the analysis could not use this window: ${error instanceof Error ? error.message : String(error)}`;
    return withoutData(t, track, observation, why);
  }
  if (track.noDataSince !== null) {
    t.event('outage', track.service, `${track.service}: metrics are back`, null, {
      since: track.noDataSince,
    });
    track.noDataSince = null;
  }

  track.observedUntil = observation.to;
  track.analysis = result.state;
  const tier = track.tiers[track.tierIndex];
  const settled = track.appliedWeight === track.targetWeight;
  const since = tier === undefined ? null : bakeStart(tier);
  // Only windows wholly at the tier's confirmed weight count towards its bake.
  if (
    tier !== undefined &&
    settled &&
    since !== null &&
    observation.weight === tier.weight &&
    observation.from >= since
  )
    tier.requests += observation.canary.requests;

  const guards = hardGuards(observation);
  // A forecast without a usable figure (not a number in [0, 1]) is an unknown risk: it holds the tier.
  const risk = validRisk(observation.risk) ? observation.risk : null;
  const unknownRisk = risk === null && (observation.risk !== null || (observation.forecast ?? null) !== null);
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
    return {
      track,
      message: breaches.map((b) => b.message).join('; '),
      findings: breaches,
      data: {
        findings: breaches,
        ...(predicted.length > 0 ? { risk, forecast: observation.forecast ?? null } : {}),
      },
    };
  }

  watchClosely(t, track, result.closest ?? null, state.monitoring);

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
    return null;
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
    return null;
  }
  if (track.phase !== 'progressing' || tier === undefined || !settled) return null;

  const baked =
    since !== null &&
    now - since >= tier.bake.minDurationMs &&
    tier.requests >= Math.max(MIN_BAKE_REQUESTS, tier.bake.minRequests);
  // The latest risk — this window's re-prediction, else the last one, else the prediction made
  // before the rollout — must be low to go on: a high prediction not yet confirmed or refuted by
  // the canary's own figures holds the tier (it never rolls back on its own). At the last tier
  // nothing is left to predict: the limit tests decide.
  const latestRisk = risk ?? track.risk?.value ?? null;
  const lastTier = track.tierIndex >= track.tiers.length - 1;
  const confidentRisk = lastTier || (!unknownRisk && (latestRisk === null || latestRisk <= state.risk.low));
  // Small tiers exist to cap the harm while evidence accumulates: they advance on bake and no
  // alarm. Before the canary takes all traffic, every limit test must be confident it is within.
  const certify = track.tierIndex >= track.tiers.length - 2;
  if (baked && !confidentRisk) {
    if (track.reason === null || track.reason.startsWith(CERTIFY_WAIT)) {
      track.reason = unknownRisk
        ? `${RISK_HOLD} ${tier.share}%: the re-prediction gave no usable risk (${String(observation.risk)}), and an unknown risk is not a low one`
        : riskHoldReason(track, tier.share, latestRisk ?? 0, state.risk.low);
      decide(t, track, 'HOLD', track.reason, []);
    }
    return null;
  }
  if (track.reason?.startsWith(RISK_HOLD) === true) track.reason = null;
  const errorsNotWorse = result.errorsNotWorse !== false;
  const certified = result.withinLimits && errorsNotWorse;
  if (baked && confidentRisk && (!certify || certified)) {
    if (track.reason?.startsWith(CERTIFY_WAIT) === true) track.reason = null;
    decide(
      t,
      track,
      'GREEN',
      `tier ${tier.share}% baked with ${tier.requests} canary requests, ${certified ? "within limits, errors not worse than the stable's" : 'no alarm'}`,
      [],
    );
    advance(t, track);
  } else if (baked && confidentRisk && (track.reason === null || track.reason.startsWith(CERTIFY_WAIT))) {
    // Baked, but not yet shown fit for more traffic: say what the evidence still has to show.
    const missing = [
      ...(result.withinLimits ? [] : ['every limit holds']),
      ...(errorsNotWorse ? [] : ["its errors are not worse than the stable's"]),
    ];
    track.reason = `${CERTIFY_WAIT} ${tier.share}% until the canary's figures show ${missing.join(' and ')}`;
  }
  return null;
}

/** How a baked track waiting for the evidence the last two tiers need says so. */
const CERTIFY_WAIT = 'waiting at tier';

function riskHoldReason(track: ServiceTrack, share: number, risk: number, low: number): string {
  const prior = track.risk?.source === 'prediction';
  const from = prior ? 'predicted before the rollout' : 're-predicted';
  return `${RISK_HOLD} ${share}%: risk ${percent(risk)} ${from} is above ${percent(low)}, until the canary's figures lower it${prior ? ' or an operator resumes' : ''}`;
}

function validRisk(risk: number | null): risk is number {
  return risk !== null && Number.isFinite(risk) && risk >= 0 && risk <= 1;
}

/**
 * A window the tests cannot use — the metrics could not be read, or their counts are not counts —
 * holds the track (missing data is not evidence of health). A crash loop still rolls it back: the
 * runtime reports it, not the metrics.
 */
function withoutData(t: Transition, track: ServiceTrack, observation: Observation, why: string): Red | null {
  if (observation.crashLoop) {
    const finding = crashLoopFinding();
    return {
      track,
      message: finding.message,
      findings: [finding],
      data: { findings: [finding], unavailable: why },
    };
  }
  hold(t, track, why);
  return null;
}

function hold(t: Transition, track: ServiceTrack, why: string): void {
  const { now, state } = t;
  if (track.noDataSince === null) {
    track.noDataSince = now;
    decide(
      t,
      track,
      'HOLD',
      `no usable metrics for this window (${why}): holding, missing data is not evidence of health`,
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
  if (o.crashLoop) found.push(crashLoopFinding());
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

function crashLoopFinding(): Finding {
  return { test: 'hard-guard', message: 'the canary is in a crash loop', evidence: null };
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

/**
 * A rollback test this far along its way (ln E ÷ ln(1/α)) makes the controller watch the track at
 * the warning interval: the evidence is building, and a regression caught a tick sooner serves
 * fewer bad requests. Looking more often costs no false rollbacks (each test is anytime-valid).
 */
export const CLOSE_WATCH_FROM = 0.5;
/** …and back to the monitoring interval below this (apart from FROM, so it does not flap). */
export const CLOSE_WATCH_UNTIL = 0.3;

function watchClosely(
  t: Transition,
  track: ServiceTrack,
  closest: NonNullable<AnalysisResult['closest']> | null,
  monitoring: ReleaseState['monitoring'],
): void {
  if (monitoring.warningIntervalMs >= monitoring.intervalMs) return;
  const share = closest?.share ?? 0;
  if (track.closeWatch !== true && closest !== null && share >= CLOSE_WATCH_FROM) {
    track.closeWatch = true;
    decide(
      t,
      track,
      'OBSERVE',
      `evidence building: ${closest.test} has come ${percent(share)} of its way to a rollback; watching every ${seconds(monitoring.warningIntervalMs)}`,
      [],
    );
  } else if (track.closeWatch === true && share < CLOSE_WATCH_UNTIL) {
    track.closeWatch = false;
    decide(
      t,
      track,
      'OBSERVE',
      `evidence faded (${closest === null ? 'no test' : `${closest.test} at ${percent(share)}`}); watching every ${seconds(monitoring.intervalMs)}`,
      [],
    );
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
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
