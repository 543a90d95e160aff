import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApplicationConfig, ReleaseConfig } from '../../config/types.js';
import { command, promotionApplied, resumable, weightApplied } from './commands.js';
import type { Action } from './events.js';
import type { Analysis, AnalysisResult, Observation } from './observation.js';
import type { Step } from './release.js';
import { createRelease, nextIntervalMs, releasePhase } from './release.js';
import { mitigationDone } from './mitigation.js';
import { tick } from './tick.js';
import type { ReleaseState } from './types.js';

const app = {
  name: 'shop',
  services: {
    cart: { stable: 'v1' },
    catalog: { stable: 'v1' },
  },
} as unknown as ApplicationConfig;

const release = (services: string[] = ['cart']): ReleaseConfig => ({
  name: 'r1',
  application: 'shop',
  changes: services.map((service) => ({ service, revision: 'v2' })),
  tiers: [1, 10, 100],
  bake: { minDurationMs: 20_000, minRequests: 50 },
  monitoring: { intervalMs: 10_000, warningIntervalMs: 1_000 },
  risk: { low: 0.1, high: 0.5 },
  alpha: 0.01,
  mitigations: [],
  source: 'r1.yaml',
});

/** Analysis driven by flags in the observation: lets the tests script breaches and deviations. */
const scripted: Analysis = {
  initial: () => ({ windows: 0 }),
  update(state, o): AnalysisResult {
    const windows = (state as { windows: number }).windows + 1;
    const errorRate = o.canary === null || o.canary.requests === 0 ? 0 : o.canary.errors / o.canary.requests;
    return {
      state: { windows },
      breaches:
        errorRate >= 0.05
          ? [{ test: 'error-rate-limit', message: 'error rate above 1%', evidence: 100 }]
          : [],
      deviations:
        (o.canary?.latencyP99Ms ?? 0) > 100
          ? [{ test: 'predicted-range', message: 'p99 above range', evidence: 30 }]
          : [],
      withinLimits: windows >= 2,
    };
  },
};

const window = (requests: number, errors = 0, p99 = 10) => ({
  requests,
  errors,
  slow: 0,
  latencyP99Ms: p99,
  cpuCores: 0.1,
  cpuCapacity: 0.5,
});

function obs(
  service: string,
  weight: number,
  from: number,
  canary = window(40),
  risk: number | null = null,
): Observation {
  return {
    service,
    from,
    to: from + 10_000,
    weight,
    canary,
    stable: window(4000),
    crashLoop: false,
    risk,
    predicted: null,
  };
}

/** Applies a step's actions as a perfect router would, returning the state after confirmations. */
function settle(step: Step, now: number): { state: ReleaseState; actions: Action[] } {
  let state = step.state;
  const actions = [...step.actions];
  for (const a of step.actions) {
    if (a.type === 'set-weight') state = weightApplied(state, a.service, a.weight, now).state;
    if (a.type === 'make-stable') state = promotionApplied(state, a.service, now).state;
  }
  return { state, actions };
}

describe('rollout decision core', () => {
  it('walks a healthy canary through every tier to promotion', () => {
    let now = 0;
    let { state } = settle(createRelease(release(), app, scripted, now), now);
    expect(state.tracks[0]?.appliedWeight).toBe(100);
    const weights: number[] = [];
    for (let i = 0; i < 20 && releasePhase(state) === 'running'; i++) {
      now += 10_000;
      const track = state.tracks[0];
      const step = tick(state, [obs('cart', track?.appliedWeight ?? 0, now - 10_000)], scripted, now);
      state = settle(step, now).state;
      weights.push(state.tracks[0]?.appliedWeight ?? 0);
    }
    expect(releasePhase(state)).toBe('promoted');
    expect(state.tracks[0]?.tiers.map((t) => t.status)).toEqual(['passed', 'passed', 'passed']);
    expect(weights).toEqual([...weights].sort((a, b) => a - b));
  });

  it("waits at the last two tiers until the canary's errors are shown not worse, and says so", () => {
    // Within limits from the second window; errors shown not worse from the eighth.
    const gated: Analysis = {
      initial: () => ({ windows: 0 }),
      update(state): AnalysisResult {
        const windows = (state as { windows: number }).windows + 1;
        return {
          state: { windows },
          breaches: [],
          deviations: [],
          withinLimits: windows >= 2,
          errorsNotWorse: windows >= 8,
        };
      },
    };
    let now = 0;
    let { state } = settle(createRelease(release(), app, gated, now), now);
    const seen: { weight: number; reason: string | null }[] = [];
    for (let i = 0; i < 20 && releasePhase(state) === 'running'; i++) {
      now += 10_000;
      const track = state.tracks[0];
      state = settle(
        tick(state, [obs('cart', track?.appliedWeight ?? 0, now - 10_000)], gated, now),
        now,
      ).state;
      seen.push({ weight: state.tracks[0]?.appliedWeight ?? 0, reason: state.tracks[0]?.reason ?? null });
    }
    expect(releasePhase(state)).toBe('promoted');
    // The 1% tier advances on its bake alone; the 10% tier (one of the last two) waits.
    const waiting = seen.filter((s) => s.reason !== null);
    expect(waiting.length).toBeGreaterThan(0);
    for (const w of waiting) {
      expect(w.weight).toBe(1_000);
      expect(w.reason).toBe(
        "waiting at tier 10% until the canary's figures show its errors are not worse than the stable's",
      );
    }
    const reachedFull = seen.findIndex((s) => s.weight === 10_000);
    expect(reachedFull).toBeGreaterThanOrEqual(7);
    expect(seen[reachedFull]?.reason).toBeNull();
  });

  it('holds without data, never advances, and rolls back after the outage when told to', () => {
    let now = 0;
    let { state } = settle(
      createRelease(release(), app, scripted, now, {
        resumeAfterMs: 30_000,
        outageAfterMs: 60_000,
        outageAction: 'rollback',
        stopCanaryAfterMs: 30_000,
      }),
      now,
    );
    const noData: Observation = { ...obs('cart', 100, 0), canary: null };
    for (let i = 0; i < 6; i++) {
      now += 10_000;
      const step = tick(state, [noData], scripted, now);
      expect(step.actions.filter((a) => a.type === 'set-weight' && a.weight > 100)).toEqual([]);
      state = settle(step, now).state;
    }
    expect(state.tracks[0]?.phase).toBe('progressing');
    now += 10_000;
    const step = tick(state, [noData], scripted, now);
    expect(step.actions).toEqual([{ type: 'set-weight', service: 'cart', revision: 'v2', weight: 0 }]);
    expect(step.state.tracks[0]?.phase).toBe('rolling-back');
  });

  it('goes RED on a breach and reports rolled back only once the router confirms weight 0', () => {
    const now = 10_000;
    const { state } = settle(createRelease(release(), app, scripted, 0), 0);
    const red = tick(state, [obs('cart', 100, 0, window(100, 10))], scripted, now);
    expect(red.events.some((e) => e.signal === 'RED' && e.type === 'decision')).toBe(true);
    expect(red.state.tracks[0]?.phase).toBe('rolling-back');
    expect(red.actions).toEqual([{ type: 'set-weight', service: 'cart', revision: 'v2', weight: 0 }]);
    const done = weightApplied(red.state, 'cart', 0, now + 5);
    expect(done.state.tracks[0]?.phase).toBe('rolled-back');
    expect(done.actions).toEqual([
      { type: 'stop-revision', service: 'cart', revision: 'v2', notBefore: now + 5 + 30_000 },
    ]);
    expect(releasePhase(done.state)).toBe('rolled-back');
  });

  it("keeps each track's latest signalled event as its state, not a mitigation's", () => {
    const { state } = settle(createRelease(release(), app, scripted, 0), 0);
    expect(state.tracks[0]?.decision).toBeUndefined();
    const paused = command(state, { type: 'pause' }, 'ops', 5_000);
    expect(paused.state.tracks[0]?.decision).toEqual({
      signal: 'HOLD',
      message: 'cart: paused by ops',
      at: 5_000,
    });
    const red = tick(paused.state, [obs('cart', 100, 0, window(100, 10))], scripted, 10_000);
    const said = red.events.filter((e) => e.service === 'cart' && e.signal !== null).at(-1);
    expect(red.state.tracks[0]?.decision).toEqual({ signal: 'RED', message: said?.message, at: 10_000 });
    // What the API shows survives the store's JSON.
    const stored = JSON.parse(JSON.stringify(red.state)) as ReleaseState;
    expect(stored.tracks[0]?.decision).toEqual(red.state.tracks[0]?.decision);
  });

  it('trips the hard guards: crash loop and ≥ 50% errors', () => {
    const { state } = settle(createRelease(release(), app, scripted, 0), 0);
    const crash = tick(state, [{ ...obs('cart', 100, 0), crashLoop: true }], scripted, 10_000);
    expect(crash.state.tracks[0]?.phase).toBe('rolling-back');
    const never: Analysis = {
      initial: () => null,
      update: () => ({ state: null, breaches: [], deviations: [], withinLimits: false }),
    };
    const errors = tick(state, [obs('cart', 100, 0, window(20, 10))], never, 10_000);
    expect(errors.state.tracks[0]?.reason).toMatch(/10 of 20/);
  });

  it('trips the hard guard on the current, incomplete second, without feeding the analysis', () => {
    const { state } = settle(createRelease(release(), app, scripted, 0), 0);
    const current = (requests: number, errors: number) => [
      { service: 'cart', from: 10_000, to: 10_400, canary: { requests, errors } },
    ];
    // Too few requests so far, or too few failing: nothing happens, and no window is consumed.
    for (const [requests, errors] of [
      [9, 9],
      [30, 14],
    ] as const) {
      const calm = tick(state, [], scripted, 10_400, current(requests, errors));
      expect(calm.state.tracks[0]?.phase).toBe('progressing');
      expect(calm.state.tracks[0]?.observedUntil).toBeNull();
    }
    const red = tick(state, [], scripted, 10_400, current(12, 12));
    expect(red.state.tracks[0]?.phase).toBe('rolling-back');
    expect(red.state.tracks[0]?.reason).toMatch(/12 of 12 requests so far this second/);
    expect(red.actions).toEqual([{ type: 'set-weight', service: 'cart', revision: 'v2', weight: 0 }]);
    expect(red.state.tracks[0]?.analysis).toEqual(state.tracks[0]?.analysis);
  });

  it('YELLOW pauses and watches faster, then resumes once clear for the configured time', () => {
    let { state } = settle(createRelease(release(), app, scripted, 0), 0);
    const yellow = tick(state, [obs('cart', 100, 0, window(40, 0, 500))], scripted, 10_000);
    state = yellow.state;
    expect(state.tracks[0]?.phase).toBe('warning');
    expect(nextIntervalMs(state)).toBe(1_000);
    let now = 10_000;
    // Clear from 11 s on: still YELLOW until 30 s of clear, i.e. through 40 s.
    for (let i = 0; i < 30; i++) {
      now += 1_000;
      state = tick(state, [obs('cart', 100, now - 1000)], scripted, now).state;
    }
    expect(state.tracks[0]?.phase).toBe('warning');
    now += 1_000;
    const resumed = tick(state, [obs('cart', 100, now - 1000)], scripted, now);
    expect(resumed.state.tracks[0]?.phase).toBe('progressing');
    expect(nextIntervalMs(resumed.state)).toBe(10_000);
  });

  it('watches closely while a rollback test is past half its way, and says so once each way', () => {
    // The canary's errors script how far the nearest rollback test has come: 10 errors = all the way.
    const building: Analysis = {
      initial: () => ({}),
      update: (s, o): AnalysisResult => ({
        state: s,
        breaches: [],
        deviations: [],
        withinLimits: false,
        closest: { test: 'error-regression', share: (o.canary?.errors ?? 0) / 10 },
      }),
    };
    let { state } = settle(createRelease(release(), app, building, 0), 0);
    expect(nextIntervalMs(state)).toBe(10_000);
    const intervals: number[] = [];
    const said: string[] = [];
    let now = 0;
    for (const errors of [2, 6, 4, 3, 2, 7]) {
      const step = tick(state, [obs('cart', 100, now, window(1000, errors))], building, now + 1000);
      said.push(...step.events.filter((e) => e.signal === 'OBSERVE').map((e) => e.message));
      state = settle(step, now + 1000).state;
      intervals.push(nextIntervalMs(state));
      now += 1000;
    }
    // In at ≥ 50%, out below 30%: 40% and 30% keep watching closely.
    expect(intervals).toEqual([10_000, 1_000, 1_000, 1_000, 10_000, 1_000]);
    expect(said).toEqual([
      'OBSERVE cart v2: evidence building: error-regression has come 60.0% of its way to a rollback; watching every 1 s',
      'OBSERVE cart v2: evidence faded (error-regression at 20.0%); watching every 10 s',
      'OBSERVE cart v2: evidence building: error-regression has come 70.0% of its way to a rollback; watching every 1 s',
    ]);
    // A track that has ended does not keep the controller watching closely.
    state = settle(command(state, { type: 'rollback', service: 'cart' }, 'ops', now), now).state;
    expect(state.tracks[0]?.phase).toBe('rolled-back');
    expect(nextIntervalMs(state)).toBe(10_000);
  });

  it('rolls back when the risk exceeds risk.high, and does not advance above risk.low', () => {
    const { state } = settle(createRelease(release(), app, scripted, 0), 0);
    const at = 25_000;
    const cautious = tick(
      tick(state, [obs('cart', 100, 0, window(40), 0.3)], scripted, 10_000).state,
      [obs('cart', 100, 10_000, window(40), 0.3)],
      scripted,
      at,
    );
    expect(cautious.state.tracks[0]?.tierIndex).toBe(0);
    const red = tick(state, [obs('cart', 100, 0, window(40), 0.7)], scripted, 10_000);
    expect(red.state.tracks[0]?.reason).toMatch(/predicted/);
  });

  it('holds a tier on a high prior risk until the canary lowers it; never rolls back on the prior alone', () => {
    const prior = { value: 0.88, breachTier: 100, detail: 'cart v2 saturates its CPU at the 100% tier' };
    let { state } = settle(createRelease(release(), app, scripted, 0, undefined, { cart: prior }), 0);
    expect(state.tracks[0]?.risk).toMatchObject({ value: 0.88, source: 'prediction' });
    // Baked, no alarm, no re-prediction yet: the prior holds the tier, once said.
    const decisions: string[] = [];
    for (let now = 10_000; now <= 40_000; now += 10_000) {
      const step = tick(state, [obs('cart', 100, now - 10_000)], scripted, now);
      decisions.push(...step.events.filter((e) => e.type === 'decision').map((e) => e.message));
      state = settle(step, now).state;
    }
    expect(state.tracks[0]?.phase).toBe('progressing');
    expect(state.tracks[0]?.tierIndex).toBe(0);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatch(
      /HOLD cart v2: holding at tier 1%: risk 88\.0% predicted before the rollout/,
    );
    // The canary's figures say 2%: the tier advances and the hold's reason is gone.
    state = settle(tick(state, [obs('cart', 100, 40_000, window(40), 0.02)], scripted, 50_000), 50_000).state;
    expect(state.tracks[0]?.tierIndex).toBe(1);
    expect(state.tracks[0]?.reason).toBeNull();
    expect(state.tracks[0]?.risk).toMatchObject({ value: 0.02, source: 'rollout' });
  });

  it('lets an operator accept a predicted risk with resume; a later re-prediction still holds', () => {
    const prior = { value: 0.88, breachTier: 100, detail: 'cart v2 saturates its CPU at the 100% tier' };
    let { state } = settle(createRelease(release(), app, scripted, 0, undefined, { cart: prior }), 0);
    state = settle(tick(state, [obs('cart', 100, 0)], scripted, 10_000), 10_000).state;
    state = settle(tick(state, [obs('cart', 100, 10_000)], scripted, 20_000), 20_000).state;
    expect(state.tracks[0]?.reason).toMatch(/holding at tier 1%.*or an operator resumes/);
    expect(state.tracks[0]?.tierIndex).toBe(0);
    expect(state.tracks.map(resumable)).toEqual([true]);
    const resumed = command(state, { type: 'resume', service: 'cart' }, 'ops', 21_000);
    expect(resumed.state.tracks.map(resumable)).toEqual([false]);
    expect(resumed.events.map((e) => e.message)).toContain(
      "cart: the risk predicted before the rollout accepted by ops; the canary's own figures decide from here",
    );
    state = resumed.state;
    expect(state.tracks[0]?.risk ?? null).toBeNull();
    state = settle(tick(state, [obs('cart', 100, 20_000)], scripted, 30_000), 30_000).state;
    expect(state.tracks[0]?.tierIndex).toBe(1);
    // A re-prediction from the canary's own figures above risk.low holds the next tier again.
    for (let now = 40_000; now <= 70_000; now += 10_000)
      state = settle(
        tick(state, [obs('cart', 1000, now - 10_000, window(40), 0.3)], scripted, now),
        now,
      ).state;
    expect(state.tracks[0]?.tierIndex).toBe(1);
    expect(state.tracks[0]?.reason).toMatch(/holding at tier 10%: risk 30\.0% re-predicted/);
    // resume does not waive the canary's own figures.
    state = command(state, { type: 'resume', service: 'cart' }, 'ops', 71_000).state;
    expect(state.tracks[0]?.risk).toMatchObject({ value: 0.3, source: 'rollout' });
  });

  it('does not gate the last tier on risk: nothing is left to predict there', () => {
    const prior = { value: 0.3, breachTier: null, detail: null };
    let { state } = settle(
      createRelease({ ...release(), tiers: [100] }, app, scripted, 0, undefined, { cart: prior }),
      0,
    );
    for (let now = 10_000; now <= 30_000 && releasePhase(state) === 'running'; now += 10_000) {
      state = settle(tick(state, [obs('cart', 10_000, now - 10_000)], scripted, now), now).state;
    }
    expect(releasePhase(state)).toBe('promoted');
  });

  it('names the forecast failure point and its tier when the re-predicted risk rolls back', () => {
    const { state } = settle(createRelease(release(), app, scripted, 0), 0);
    const forecast = { breachTier: 100, detail: 'cart v2 needs 112% of its CPU allocation at the 100% tier' };
    const red = tick(state, [{ ...obs('cart', 100, 0, window(40), 0.9), forecast }], scripted, 10_000);
    const track = red.state.tracks[0];
    expect(track?.phase).toBe('rolling-back');
    expect(track?.reason).toContain('cart v2 needs 112% of its CPU allocation at the 100% tier');
    expect(track?.reason).toContain('predicted breach at the 100% tier');
    const observed = red.events.find((e) => e.type === 'observation');
    expect((observed?.data as { forecast?: unknown } | undefined)?.forecast).toEqual(forecast);
  });

  it('obeys operators: pause blocks advancing, resume lifts it, promote and abort end the release', () => {
    let { state } = settle(createRelease(release(['cart', 'catalog']), app, scripted, 0), 0);
    state = command(state, { type: 'pause', service: 'cart' }, 'alice', 1).state;
    for (let now = 10_000; now <= 60_000; now += 10_000) {
      state = settle(
        tick(
          state,
          [obs('cart', 100, now - 10_000), obs('catalog', state.tracks[1]?.appliedWeight ?? 0, now - 10_000)],
          scripted,
          now,
        ),
        now,
      ).state;
    }
    expect(state.tracks[0]?.appliedWeight).toBe(100);
    expect(state.tracks[1]?.appliedWeight).toBeGreaterThan(100);
    state = command(state, { type: 'resume', service: 'cart' }, 'alice', 60_001).state;
    expect(state.tracks[0]?.phase).toBe('progressing');
    const promoted = settle(
      command(state, { type: 'promote', service: 'catalog' }, 'bob', 60_002),
      60_002,
    ).state;
    expect(promoted.tracks[1]?.phase).toBe('promoted');
    const aborted = settle(command(promoted, { type: 'abort' }, 'bob', 60_003), 60_003).state;
    expect(aborted.tracks[0]?.phase).toBe('rolled-back');
    expect(releasePhase(aborted)).toBe('aborted');
  });

  it('refuses to roll back or abort a track being promoted, and says why; the release ends promoted', () => {
    let { state } = settle(createRelease(release(['cart', 'catalog']), app, scripted, 0), 0);
    state = command(state, { type: 'promote', service: 'cart' }, 'alice', 1).state;
    expect(state.tracks[0]?.phase).toBe('promoting');
    const rollback = command(state, { type: 'rollback', service: 'cart' }, 'bob', 2);
    expect(rollback.state.tracks[0]?.phase).toBe('promoting');
    expect(rollback.actions).toEqual([]);
    expect(rollback.events.map((e) => e.message)).toContain(
      'cart: rollback refused: v2 is being promoted to stable; to go back, release v1 again as a new release',
    );
    // An abort takes back what it can and leaves the promotion to finish.
    const abort = command(rollback.state, { type: 'abort' }, 'bob', 3);
    expect(abort.state.tracks.map((x) => x.phase)).toEqual(['promoting', 'rolling-back']);
    expect(abort.events.filter((e) => e.data.refused === 'promoting').map((e) => e.service)).toEqual([
      'cart',
    ]);
    expect(releasePhase(promotionApplied(settle(abort, 4).state, 'cart', 5).state)).toBe('aborted');
    // With nothing else to take back, an abort changes nothing: the release ends promoted.
    const only = command(
      settle(createRelease(release(), app, scripted, 0), 0).state,
      { type: 'promote' },
      'alice',
      1,
    ).state;
    const refused = command(only, { type: 'abort' }, 'bob', 2);
    expect(refused.state.aborted).toBe(false);
    expect(releasePhase(settle(refused, 3).state)).toBe('running');
    expect(releasePhase(promotionApplied(refused.state, 'cart', 3).state)).toBe('promoted');
  });

  it("counts a tier's bake from the router's confirmation of its weight, not from its request", () => {
    // The router confirms the first tier 25 s after it was asked: the bake (20 s, 50 requests)
    // counts from there, and the window that began before the confirmation does not count.
    const started = createRelease(release(), app, scripted, 0);
    let state = started.state;
    const quiet = (weight: number, from: number) => obs('cart', weight, from, window(40));
    state = tick(state, [quiet(0, 0)], scripted, 10_000).state;
    state = tick(state, [quiet(0, 10_000)], scripted, 20_000).state;
    state = weightApplied(state, 'cart', 100, 25_000).state;
    expect(state.tracks[0]?.tiers[0]?.confirmedAt).toBe(25_000);
    state = tick(state, [quiet(100, 20_000)], scripted, 30_000).state;
    expect(state.tracks[0]?.tiers[0]?.requests).toBe(0);
    state = tick(state, [quiet(100, 30_000)], scripted, 40_000).state;
    expect(state.tracks[0]?.tiers[0]?.requests).toBe(40);
    expect(state.tracks[0]?.tierIndex).toBe(0);
    state = tick(state, [quiet(100, 40_000)], scripted, 50_000).state;
    expect(state.tracks[0]?.tierIndex).toBe(1);
    expect(state.tracks[0]?.tiers[1]?.confirmedAt).toBeNull();
  });

  it('never bakes a tier on zero canary requests, whatever bake.minRequests says', () => {
    const within: Analysis = {
      initial: () => null,
      update: () => ({ state: null, breaches: [], deviations: [], withinLimits: true }),
    };
    const spec = { ...release(), bake: { minDurationMs: 0, minRequests: 0 } };
    let { state } = settle(createRelease(spec, app, within, 0), 0);
    for (let now = 10_000; now <= 60_000; now += 10_000)
      state = settle(tick(state, [obs('cart', 100, now - 10_000, window(0))], within, now), now).state;
    expect(state.tracks[0]?.tierIndex).toBe(0);
    state = settle(tick(state, [obs('cart', 100, 60_000, window(1))], within, 70_000), 70_000).state;
    expect(state.tracks[0]?.tierIndex).toBe(1);
  });

  it('holds on a window the analysis cannot use, saying why; a crash loop still rolls back', () => {
    const refusing: Analysis = {
      initial: () => null,
      update: () => {
        throw new RangeError('events 21 > trials 20');
      },
    };
    const { state } = settle(createRelease(release(), app, refusing, 0), 0);
    const held = tick(state, [obs('cart', 100, 0, window(20, 21))], refusing, 10_000);
    expect(held.state.tracks[0]).toMatchObject({
      phase: 'progressing',
      noDataSince: 10_000,
      observedUntil: null,
    });
    expect(held.events.map((e) => e.message)).toEqual([
      'HOLD cart v2: no usable metrics for this window (the analysis could not use this window: events 21 > trials 20): holding, missing data is not evidence of health',
    ]);
    const crashing = { ...obs('cart', 100, 0, window(20, 21)), crashLoop: true };
    const red = tick(state, [crashing], refusing, 10_000);
    expect(red.state.tracks[0]?.phase).toBe('rolling-back');
    expect(red.state.tracks[0]?.reason).toBe('the canary is in a crash loop');
    // A metrics outage does not hide a crash loop either.
    const dark = tick(state, [{ ...crashing, canary: null, stable: null }], refusing, 10_000);
    expect(dark.state.tracks[0]?.phase).toBe('rolling-back');
  });

  it('holds a tier on a re-prediction without a usable risk, alike live and replayed through JSON', () => {
    let { state } = settle(createRelease(release(), app, scripted, 0), 0);
    const forecast = { breachTier: null, detail: 'cart v2 forecast' };
    const unknown = (from: number): Observation => ({
      ...obs('cart', 100, from, window(40), Number.NaN),
      forecast,
    });
    for (let now = 10_000; now <= 40_000; now += 10_000) {
      const step = tick(state, [unknown(now - 10_000)], scripted, now);
      // Nothing that JSON would turn into something else is stored.
      expect(JSON.parse(JSON.stringify(step.state))).toEqual(step.state);
      state = settle(step, now).state;
    }
    expect(state.tracks[0]?.tierIndex).toBe(0);
    expect(state.tracks[0]?.reason).toMatch(/^holding at tier 1%: the re-prediction gave no usable risk/);
    const replayed = JSON.parse(JSON.stringify(unknown(40_000))) as Observation;
    expect(replayed.risk).toBeNull();
    expect(tick(state, [replayed], scripted, 50_000).state.tracks[0]?.tierIndex).toBe(0);
    // A usable figure lets it go on.
    state = tick(state, [{ ...unknown(40_000), risk: 0.02 }], scripted, 50_000).state;
    expect(state.tracks[0]?.tierIndex).toBe(1);
  });

  // Property tests over random sequences of observations and commands.
  const step = fc.oneof(
    fc.record({
      kind: fc.constant('tick' as const),
      requests: fc.nat(200),
      errors: fc.nat(20),
      p99: fc.nat(300),
      data: fc.boolean(),
      risk: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
    }),
    fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const) }),
  );

  function run(steps: readonly fc.Arbitrary<unknown>[] | unknown[]): {
    states: ReleaseState[];
    signals: string[];
  } {
    let now = 0;
    let state = settle(createRelease(release(), app, scripted, now), now).state;
    const states = [state];
    const signals: string[] = [];
    for (const s of steps as {
      kind: string;
      requests?: number;
      errors?: number;
      p99?: number;
      data?: boolean;
      risk?: number | null;
    }[]) {
      now += 5_000;
      let next: Step;
      if (s.kind === 'tick') {
        const o = obs(
          'cart',
          state.tracks[0]?.appliedWeight ?? 0,
          now - 5_000,
          window(s.requests ?? 0, Math.min(s.errors ?? 0, s.requests ?? 0), s.p99),
          s.risk ?? null,
        );
        next = tick(state, [s.data === true ? o : { ...o, canary: null }], scripted, now);
      } else {
        next = command(state, { type: s.kind as 'pause' | 'resume' }, 'prop', now);
      }
      signals.push(...next.events.map((e) => `${e.sequence}:${e.type}:${e.signal ?? ''}`));
      state = settle(next, now).state;
      states.push(state);
    }
    return { states, signals };
  }

  it('never lowers the weight unless rolling back, and keeps weights within 0..10000', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const { states } = run(steps);
        for (let i = 1; i < states.length; i++) {
          const before = states[i - 1]?.tracks[0];
          const after = states[i]?.tracks[0];
          expect(after?.appliedWeight).toBeGreaterThanOrEqual(0);
          expect(after?.appliedWeight).toBeLessThanOrEqual(10_000);
          if (after?.phase !== 'rolled-back' && after?.phase !== 'rolling-back') {
            expect(after?.appliedWeight).toBeGreaterThanOrEqual(before?.appliedWeight ?? 0);
          }
        }
      }),
    );
  });

  it('can roll back from every reachable state', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const { states } = run(steps);
        for (const state of states) {
          const track = state.tracks[0];
          if (
            track === undefined ||
            track.phase === 'promoted' ||
            track.phase === 'rolled-back' ||
            track.phase === 'promoting'
          )
            continue;
          const rolled = settle(command(state, { type: 'rollback' }, 'prop', 1e12), 1e12).state;
          expect(rolled.tracks[0]?.phase).toBe('rolled-back');
          expect(rolled.tracks[0]?.appliedWeight).toBe(0);
        }
      }),
    );
  });

  it('replays identically: same inputs, same events and states, also through JSON', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const a = run(steps);
        const b = run(JSON.parse(JSON.stringify(steps)) as unknown[]);
        expect(b.signals).toEqual(a.signals);
        expect(JSON.parse(JSON.stringify(b.states))).toEqual(JSON.parse(JSON.stringify(a.states)));
      }),
    );
  });
});

describe('several services in one release', () => {
  const graph = {
    name: 'shop',
    services: {
      frontend: { stable: 'v1', calls: [{ service: 'cart' }, { service: 'catalog' }] },
      cart: { stable: 'v1', calls: [{ service: 'payments' }] },
      payments: { stable: 'v1', calls: [] },
      catalog: { stable: 'v1', calls: [] },
    },
  } as unknown as ApplicationConfig;
  const three = (policy: 'service' | 'hold' | 'all' = 'service'): ReleaseConfig => ({
    ...release(['cart', 'payments', 'catalog']),
    rollback: { policy },
  });
  const failing = window(40, 10);
  const start = (policy?: 'service' | 'hold' | 'all'): ReleaseState =>
    settle(createRelease(three(policy), graph, scripted, 0), 0).state;

  it('blames the service whose own behaviour broke, not the caller that saw its errors', () => {
    const state = start();
    expect(state.callees).toMatchObject({ frontend: ['cart', 'catalog', 'payments'], cart: ['payments'] });
    const step = tick(
      state,
      [obs('cart', 100, 0, failing), obs('payments', 100, 0, failing), obs('catalog', 100, 0)],
      scripted,
      10_000,
    );
    const [cart, payments, catalog] = step.state.tracks;
    expect(payments?.phase).toBe('rolling-back');
    expect(cart?.phase).toBe('progressing');
    expect(catalog?.phase).toBe('progressing');
    expect((cart?.analysis as { windows: number }).windows).toBe(0);
    const decisions = step.events.filter((e) => e.type === 'decision').map((e) => e.message);
    expect(decisions).toContainEqual(
      expect.stringMatching(/^HOLD cart v2: not the culprit: .* explained by payments/),
    );
    expect(decisions).toContainEqual(
      expect.stringMatching(
        /^RED payments v2: .*payments is the culprit: its own behaviour broke \(cart, frontend only saw it/,
      ),
    );
    const started = step.events.find((e) => e.type === 'rollback-started');
    expect(started?.data).toMatchObject({ culprit: 'payments', callers: ['cart', 'frontend'] });
    expect(step.actions).toEqual([{ type: 'set-weight', service: 'payments', revision: 'v2', weight: 0 }]);
  });

  it('follows errors up through two callers to the one service that broke', () => {
    const state = settle(
      createRelease(release(['frontend', 'cart', 'payments']), graph, scripted, 0),
      0,
    ).state;
    const step = tick(
      state,
      [obs('frontend', 100, 0, failing), obs('cart', 100, 0, failing), obs('payments', 100, 0, failing)],
      scripted,
      10_000,
    );
    expect(step.state.tracks.map((x) => [x.service, x.phase])).toEqual([
      ['frontend', 'progressing'],
      ['cart', 'progressing'],
      ['payments', 'rolling-back'],
    ]);
    const holds = step.events.filter((e) => e.signal === 'HOLD').map((e) => e.message);
    expect(holds).toEqual([
      expect.stringMatching(/^HOLD frontend v2: not the culprit: .* explained by cart, payments/),
      expect.stringMatching(/^HOLD cart v2: not the culprit: .* explained by payments/),
    ]);
  });

  it('a caller failing on its own is the culprit, even beside a failing callee', () => {
    const state = start();
    // cart's canary crash-loops: no callee explains that.
    const crashing = { ...obs('cart', 100, 0, failing), crashLoop: true };
    const step = tick(
      state,
      [crashing, obs('payments', 100, 0, failing), obs('catalog', 100, 0)],
      scripted,
      10_000,
    );
    expect(step.state.tracks.map((x) => x.phase)).toEqual(['rolling-back', 'rolling-back', 'progressing']);
    // Callers first: cart's weight goes to 0 before payments'.
    expect(step.actions.map((a) => (a.type === 'set-weight' ? a.service : a.type))).toEqual([
      'cart',
      'payments',
    ]);
  });

  it('applies the release policy to the others: go on, hold until an operator acts, or roll back all', () => {
    const observe = (state: ReleaseState) =>
      tick(
        state,
        [obs('cart', 100, 0), obs('payments', 100, 0, failing), obs('catalog', 100, 0)],
        scripted,
        10_000,
      );
    expect(observe(start('service')).state.tracks.map((x) => x.phase)).toEqual([
      'progressing',
      'rolling-back',
      'progressing',
    ]);
    const held = observe(start('hold'));
    expect(held.state.tracks.map((x) => x.phase)).toEqual(['paused', 'rolling-back', 'paused']);
    expect(held.state.tracks[0]?.reason).toMatch(/held: payments v2 rolled back \(release policy "hold"\)/);
    const resumed = command(held.state, { type: 'resume', service: 'catalog' }, 'alice', 11_000).state;
    expect(resumed.tracks[2]).toMatchObject({ phase: 'progressing', heldByRelease: null });
    const all = observe(start('all'));
    expect(all.state.tracks.map((x) => x.phase)).toEqual(['rolling-back', 'rolling-back', 'rolling-back']);
    // Callers before callees: cart before payments; catalog (no relation) by name.
    expect(all.actions.map((a) => (a.type === 'set-weight' ? a.service : a.type))).toEqual([
      'cart',
      'catalog',
      'payments',
    ]);
  });
});

describe('mitigation after a rollback', () => {
  const app2 = {
    name: 'shop',
    services: { payments: { stable: 'v1', calls: [] }, catalog: { stable: 'v1', calls: [] } },
  } as unknown as ApplicationConfig;
  const withBackups = (restore: 'auto' | 'manual'): ReleaseConfig => ({
    ...release(['payments', 'catalog']),
    mitigations: [
      { name: 'orders', backup: { sqlite: 'orders.db' }, check: { command: ['check'] }, restore },
    ],
  });
  const backups = [{ name: 'orders', path: '/state/backups/r1/orders.sqlite', takenAt: 0 }];
  const rolledBack = (restore: 'auto' | 'manual'): Step => {
    const state = settle(
      createRelease(withBackups(restore), app2, scripted, 0, undefined, {}, backups),
      0,
    ).state;
    const red = tick(
      state,
      [obs('payments', 100, 0, window(40, 10)), obs('catalog', 100, 0)],
      scripted,
      10_000,
    );
    return weightApplied(red.state, 'payments', 0, 11_000);
  };
  const fail = { ok: false, results: [{ name: 'orders', ok: false, detail: '5 of 25 orders are corrupt' }] };
  const pass = { ok: true, results: [{ name: 'orders', ok: true, detail: '20 orders verified' }] };

  it('checks, restores, checks again, and lets the healthy service go on', () => {
    const step = rolledBack('auto');
    expect(step.state.mitigation).toMatchObject({ pending: 'check', round: 1, trigger: 'payments' });
    expect(step.actions).toContainEqual({ type: 'mitigate', step: 'check' });
    const restore = mitigationDone(step.state, fail, 12_000);
    expect(restore.state.mitigation?.pending).toBe('restore');
    expect(restore.actions).toEqual([{ type: 'mitigate', step: 'restore' }]);
    const recheck = mitigationDone(
      restore.state,
      { ok: true, results: [{ name: 'orders', ok: true, detail: 'restored' }] },
      13_000,
    );
    expect(recheck.actions).toEqual([{ type: 'mitigate', step: 'recheck' }]);
    const done = mitigationDone(recheck.state, pass, 14_000);
    expect(done.state.mitigation).toMatchObject({ pending: null, status: 'restored' });
    // The data's GREEN is the mitigation's: the rolled-back canary's state stays RED.
    expect(done.state.tracks[0]?.decision?.signal).toBe('RED');
    expect(done.events.map((e) => e.message)).toContainEqual(
      'data restored and verified (orders: 20 orders verified)',
    );
    expect(done.state.tracks[1]?.phase).toBe('progressing');
    // A stale outcome (nothing pending) changes nothing.
    expect(mitigationDone(done.state, fail, 15_000).events).toEqual([]);
  });

  it('keeps the release open while a step is pending, and ends it once the data is sound', () => {
    const state = settle(
      createRelease(
        { ...withBackups('auto'), changes: [{ service: 'payments', revision: 'v2' }] },
        app2,
        scripted,
        0,
        undefined,
        {},
        backups,
      ),
      0,
    ).state;
    const red = tick(state, [obs('payments', 100, 0, window(40, 10))], scripted, 10_000);
    const back = weightApplied(red.state, 'payments', 0, 11_000);
    expect(releasePhase(back.state)).toBe('running');
    expect(back.events.some((e) => e.type === 'release-ended')).toBe(false);
    const ok = mitigationDone(back.state, pass, 12_000);
    expect(releasePhase(ok.state)).toBe('rolled-back');
    expect(ok.events.at(-1)).toMatchObject({
      type: 'release-ended',
      message: 'release r1 ended: rolled-back',
    });
  });

  it('checks the data again when another service is rolled back while a check runs', () => {
    const first = rolledBack('auto');
    expect(first.state.mitigation?.pending).toBe('check');
    const red = command(first.state, { type: 'rollback', service: 'catalog' }, 'ops', 11_500);
    const second = weightApplied(red.state, 'catalog', 0, 11_600);
    expect(second.state.mitigation).toMatchObject({ pending: 'check', round: 1, next: 'catalog' });
    expect(second.actions).not.toContainEqual({ type: 'mitigate', step: 'check' });
    expect(releasePhase(second.state)).toBe('running');
    // The first check passes, but it may have read the data before catalog's last writes.
    const again = mitigationDone(second.state, pass, 12_000);
    expect(again.state.mitigation).toMatchObject({
      pending: 'check',
      round: 2,
      trigger: 'catalog',
      next: null,
    });
    expect(again.actions).toEqual([{ type: 'mitigate', step: 'check' }]);
    expect(releasePhase(again.state)).toBe('running');
    const done = mitigationDone(again.state, pass, 13_000);
    expect(releasePhase(done.state)).toBe('rolled-back');
  });

  it('holds the whole release when the restore is manual or fails, saying why', () => {
    const manual = mitigationDone(rolledBack('manual').state, fail, 12_000);
    expect(manual.state.mitigation).toMatchObject({ pending: null, status: 'manual' });
    expect(manual.state.tracks[1]).toMatchObject({ phase: 'paused', heldByRelease: 'mitigation' });
    expect(manual.events.at(-1)?.message).toMatch(
      /^mitigation failed: data check failed .* restore is manual: restore from \/state\/backups\/r1\/orders\.sqlite, then resume; holding catalog$/,
    );
    const restoring = mitigationDone(rolledBack('auto').state, fail, 12_000);
    const broken = mitigationDone(
      restoring.state,
      { ok: false, results: [{ name: 'orders', ok: false, detail: 'the backup is gone' }] },
      13_000,
    );
    expect(broken.state.mitigation).toMatchObject({ pending: null, status: 'failed' });
    expect(broken.state.tracks[1]?.phase).toBe('paused');
    expect(broken.events.at(-1)?.signal).toBe('RED');
    expect(broken.events.at(-1)?.message).toMatch(/the restore failed \(orders: the backup is gone\)/);
  });
});
