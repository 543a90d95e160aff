import type { Clock } from '../core/clock.js';
import { AugurError } from '../core/errors.js';
import { own } from '../core/own.js';
import type { ApplicationConfig, ReleaseConfig, ServiceConfig } from '../config/types.js';
import type { MetricsProvider } from '../metrics/provider.js';
import type { Store } from '../store/store.js';
import type { OperatorCommand } from './core/commands.js';
import { command, promotionApplied, routerFailed, weightApplied } from './core/commands.js';
import type { Action, ReleaseEvent } from './core/events.js';
import type { Analysis, Observation, PartialWindow } from './core/observation.js';
import type { Step } from './core/release.js';
import {
  createRelease,
  DEFAULT_SETTINGS,
  isTerminal,
  nextIntervalMs,
  releasePhase,
  routerPending,
} from './core/release.js';
import type { ControllerSettings } from './core/release.js';
import { tick } from './core/tick.js';
import type { PriorRisk, ReleasePhase, ReleaseState, ServiceTrack } from './core/types.js';
import { type MitigationOutcome, mitigationDone } from './core/mitigation.js';
import type { Mitigator } from './mitigator.js';
import { observeTrack, validCounts } from './observe.js';
import type { Forecaster, PredictionSource } from './predicted/source.js';

/** What the controller drives: the data plane (builtin today; HAProxy, NGINX … later). */
export interface ControlledPlane {
  readonly application: ApplicationConfig;
  readonly provider: MetricsProvider;
  setTraffic(service: string, revision: string, weight: number): Promise<unknown>;
  promote(service: string, revision: string): Promise<void>;
  stopRevision(service: string, revision: string): Promise<boolean>;
  stableOf(service: string): string;
  crashLooping(service: string, revision: string): boolean;
}

/**
 * The application as it runs now: an earlier release may have promoted another stable revision than
 * the files declare, and a new release starts from (and is checked against) the one serving.
 */
export function applicationAsRunning(
  plane: Pick<ControlledPlane, 'application' | 'stableOf'>,
): ApplicationConfig {
  const services: Record<string, ServiceConfig> = {};
  for (const [name, service] of Object.entries(plane.application.services))
    services[name] = { ...service, stable: plane.stableOf(name) };
  return { ...plane.application, services };
}

export interface ControllerOptions {
  readonly store: Store;
  readonly plane: ControlledPlane;
  /** The sequential analysis of a release (its α split across its services and tests). */
  readonly analysis: (release: ReleaseConfig) => Analysis;
  readonly prediction: PredictionSource;
  /** Re-predicts the later tiers from the canary's observed profile (the risk of each tick). */
  readonly forecaster?: Forecaster;
  readonly clock: Clock;
  readonly settings?: ControllerSettings;
  /** Observers of every stored event (progress output, SSE, audit): called after it is durable. */
  readonly onEvent?: (event: ReleaseEvent) => void;
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  /** Takes the backups releases declare, checks and restores after a rollback (none: no backups). */
  readonly mitigations?: Mitigator;
}

interface Running {
  state: ReleaseState;
  readonly spec: ReleaseConfig;
  /** Serialises every change to one release: ticks, commands and confirmations never interleave. */
  queue: Promise<void>;
  timer: NodeJS.Timeout | null;
  readonly appliers: Set<string>;
  readonly finished: Promise<ReleasePhase>;
  finish: (phase: ReleasePhase) => void;
  /** A mitigation step is running for this release. */
  mitigating?: boolean;
}

/**
 * Runs releases: one tick per monitoring interval, every step stored (state and events in one
 * transaction) before any of its actions is applied, router actions retried with backoff until the
 * router confirms them. After a crash, `resume()` picks every running release up from the store.
 */
export class RolloutController {
  private readonly releases = new Map<string, Running>();
  private readonly options: ControllerOptions;
  private closed = false;
  /** Backoffs and delayed stops, each with what to do if close() cancels it first. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  /** Services whose release is being started (backups running), by release name. */
  private readonly starting = new Map<string, { readonly release: string; readonly canary: string }>();

  /** Services whose split is being set by hand (the API's traffic route), with the revision. */
  private readonly byHand = new Map<string, string>();

  constructor(options: ControllerOptions) {
    this.options = options;
  }

  /**
   * Starts a release. `priors` is what a prediction made before the rollout said of each changed
   * service it blames: that risk holds the service's tiers until the canary's own figures lower it
   * (it never rolls back on its own).
   */
  async submit(spec: ReleaseConfig, priors: Readonly<Record<string, PriorRisk>> = {}): Promise<ReleaseState> {
    const existing = await this.options.store.getRelease(spec.name);
    if (existing !== null) {
      throw new AugurError(
        'RELEASE_EXISTS',
        `a release named ${spec.name} exists already (${existing.phase})`,
      );
    }
    const app = this.liveApplication(spec);
    // Claimed until the release is tracked: a submission meanwhile (during the backups) must not
    // pass the checks above for the same services.
    const claimed = spec.changes.map((c) => c.service);
    for (const change of spec.changes)
      this.starting.set(change.service, { release: spec.name, canary: change.revision });
    try {
      return await this.start(spec, app, priors);
    } finally {
      for (const service of claimed) this.starting.delete(service);
    }
  }

  private async start(
    spec: ReleaseConfig,
    app: ApplicationConfig,
    priors: Readonly<Record<string, PriorRisk>>,
  ): Promise<ReleaseState> {
    // Backups come before the first tier: a release whose backup fails does not start. A crash
    // meanwhile leaves no release to resume (it is stored below) and no half backup (renamed once whole).
    const runner = this.options.mitigations;
    const backups =
      runner === undefined || !spec.mitigations.some((m) => m.backup !== undefined)
        ? []
        : await runner
            .backup(spec.name, spec.mitigations, this.options.clock.now())
            .catch((error: unknown) => {
              throw new AugurError(
                'MITIGATION_BACKUP_FAILED',
                `release ${spec.name} not started: a backup failed (${(error as Error).message})`,
                { cause: error },
              );
            });
    const step = createRelease(
      spec,
      app,
      this.options.analysis(spec),
      this.options.clock.now(),
      this.settings,
      priors,
      backups,
    );
    const running = this.track(spec, step.state);
    try {
      await this.commit(running, step, true);
    } catch (error) {
      // Not stored (the store refused its first record): the release does not exist, and must not
      // keep its services busy. Stored but not applied: it is running, and its timer goes on.
      const stored = await this.options.store.getRelease(spec.name).catch(() => null);
      if (stored === null && this.releases.get(spec.name) === running) this.releases.delete(spec.name);
      throw error;
    }
    return running.state;
  }

  /** The running release rolling a canary out in `service`, if any: it alone sets that service's split. */
  changing(service: string): { release: string; canary: string; phase: string } | null {
    const starting = this.starting.get(service);
    if (starting !== undefined) return { ...starting, phase: 'starting' };
    for (const running of this.releases.values()) {
      const track = running.state.tracks.find((t) => t.service === service && !isTerminal(t));
      if (track !== undefined)
        return { release: running.state.release, canary: track.canary, phase: track.phase };
    }
    return null;
  }

  /**
   * Sets a service's split by hand (`apply`): refused (SERVICE_BUSY) while a release rolls a canary
   * out there, since the release owns that split, and while `apply` runs (it may wait for processes
   * to start) a release that would change the service is refused in turn — neither overwrites the
   * other's weights.
   */
  async setByHand<T>(service: string, revision: string, apply: () => Promise<T>): Promise<T> {
    const busy = this.changing(service);
    if (busy !== null) {
      throw new AugurError(
        'SERVICE_BUSY',
        `release ${busy.release} is rolling ${busy.canary} out in ${service}: pause, abort or roll it back instead`,
      );
    }
    const other = this.byHand.get(service);
    if (other !== undefined) {
      throw new AugurError(
        'SERVICE_BUSY',
        `${service}'s split is being set by hand already (to ${other}): try again once that is done`,
      );
    }
    this.byHand.set(service, revision);
    try {
      return await apply();
    } finally {
      this.byHand.delete(service);
    }
  }

  /**
   * The application as the release finds it: each service's stable revision is the one serving now
   * (an earlier release may have promoted another than the files declare). Refuses a change that
   * would do nothing (its revision is the stable one) and a service another running release is
   * changing: two releases would fight over its canary weight, and each would judge the other's.
   */
  private liveApplication(spec: ReleaseConfig): ApplicationConfig {
    const app = applicationAsRunning(this.options.plane);
    for (const change of spec.changes) {
      const stable = own(app.services, change.service)?.stable;
      if (change.revision === stable) {
        throw new AugurError(
          'ALREADY_STABLE',
          `release ${spec.name} changes nothing in ${change.service}: ${stable} is its stable revision already`,
        );
      }
      const busy = this.changing(change.service);
      if (busy !== null) {
        throw new AugurError(
          'SERVICE_BUSY',
          `release ${spec.name} cannot change ${change.service}: release ${busy.release} is rolling out ${busy.canary} there (${busy.phase}); wait for it to end, or abort it`,
        );
      }
      const byHand = this.byHand.get(change.service);
      if (byHand !== undefined) {
        throw new AugurError(
          'SERVICE_BUSY',
          `release ${spec.name} cannot change ${change.service}: its split is being set by hand (to ${byHand}); submit again once that is done`,
        );
      }
    }
    return app;
  }

  /** Picks up every release the store says is still running, at the tier and weights it had. */
  async resume(): Promise<string[]> {
    const resumed: string[] = [];
    for (const record of await this.options.store.listReleases()) {
      if (record.phase !== 'running' || this.releases.has(record.name)) continue;
      const running = this.track(record.spec as ReleaseConfig, record.state as ReleaseState);
      resumed.push(record.name);
      await this.enqueue(running, () => {
        this.applyAll(running, pendingActions(running.state));
        this.schedule(running);
        return Promise.resolve();
      });
    }
    return resumed;
  }

  async command(name: string, cmd: OperatorCommand, actor: string): Promise<ReleaseState> {
    const running = this.releases.get(name);
    if (running === undefined)
      throw new AugurError('RELEASE_NOT_RUNNING', `no running release named ${name}`);
    await this.enqueue(running, () =>
      this.commit(running, command(running.state, cmd, actor, this.now()), false),
    );
    return running.state;
  }

  state(name: string): ReleaseState | null {
    return this.releases.get(name)?.state ?? null;
  }

  /** Resolves with the release's final phase. */
  wait(name: string): Promise<ReleasePhase> {
    const running = this.releases.get(name);
    if (running === undefined)
      return Promise.reject(new AugurError('RELEASE_NOT_RUNNING', `no running release ${name}`));
    return running.finished;
  }

  /** Stops ticking; the stored state stays as it is, to be resumed later. */
  async close(): Promise<void> {
    this.closed = true;
    for (const running of this.releases.values()) if (running.timer !== null) clearTimeout(running.timer);
    for (const [timer, cancelled] of this.timers) {
      clearTimeout(timer);
      cancelled();
    }
    this.timers.clear();
    await Promise.all([...this.releases.values()].map((r) => r.queue));
  }

  private get settings(): ControllerSettings {
    return this.options.settings ?? DEFAULT_SETTINGS;
  }

  private get retry(): { readonly initialMs: number; readonly maxMs: number } {
    return this.options.retry ?? { initialMs: 200, maxMs: 5_000 };
  }

  private after(ms: number, run: () => void, cancelled: () => void = () => undefined): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.set(timer, cancelled);
    return timer;
  }

  /** Waits on a timer; close() ends the wait early, so that nothing waits on a cancelled timer. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve, resolve));
  }

  private now(): number {
    return this.options.clock.now();
  }

  private track(spec: ReleaseConfig, state: ReleaseState): Running {
    let finish: (phase: ReleasePhase) => void = () => undefined;
    const finished = new Promise<ReleasePhase>((resolve) => (finish = resolve));
    const running: Running = {
      state,
      spec,
      queue: Promise.resolve(),
      timer: null,
      appliers: new Set(),
      finished,
      finish,
    };
    this.releases.set(spec.name, running);
    return running;
  }

  private enqueue(running: Running, work: () => Promise<void>): Promise<void> {
    const next = running.queue.then(work);
    running.queue = next.catch(() => undefined);
    return next;
  }

  /** Stores the step, then lets observers see it, then applies its actions. */
  private async commit(running: Running, step: Step, schedule: boolean): Promise<void> {
    const phase = releasePhase(step.state);
    await this.options.store.saveRelease(
      {
        name: step.state.release,
        application: step.state.application,
        phase,
        spec: running.spec,
        state: step.state,
        createdAt: step.state.createdAt,
        updatedAt: this.now(),
      },
      step.events,
    );
    running.state = step.state;
    for (const event of step.events) this.options.onEvent?.(event);
    this.applyAll(running, step.actions);
    if (phase !== 'running') {
      if (running.timer !== null) clearTimeout(running.timer);
      running.timer = null;
      running.finish(phase);
    } else if (schedule) {
      this.schedule(running);
    }
  }

  private schedule(running: Running): void {
    if (this.closed || releasePhase(running.state) !== 'running') return;
    if (running.timer !== null) clearTimeout(running.timer);
    running.timer = setTimeout(() => {
      running.timer = null;
      this.enqueue(running, () => this.tick(running))
        .catch((error: unknown) => this.report(running, `tick failed: ${(error as Error).message}`))
        .finally(() => this.schedule(running));
    }, nextIntervalMs(running.state));
  }

  private async tick(running: Running): Promise<void> {
    const now = this.now();
    const to = Math.floor(now / 1000) * 1000;
    const observations: Observation[] = [];
    for (const track of running.state.tracks) {
      if (isTerminal(track)) continue;
      const service = this.options.plane.application.services[track.service];
      if (service === undefined) continue;
      const from = track.observedUntil ?? Math.floor((track.tiers[0]?.startedAt ?? now) / 1000) * 1000;
      if (to - from < 1000) continue;
      observations.push(await this.observe(running, service, track, from, to));
    }
    const partial = await this.currentSecond(running.state, to, now);
    await this.commit(
      running,
      tick(running.state, observations, this.options.analysis(running.spec), now, partial),
      false,
    );
  }

  /**
   * One track's window. Whatever fails while reading it is that track's missing data — recorded by
   * the core as a hold, with its reason — rather than a tick that fails for every track.
   */
  private async observe(
    running: Running,
    service: ServiceConfig,
    track: ServiceTrack,
    from: number,
    to: number,
  ): Promise<Observation> {
    try {
      const stable = this.options.plane.stableOf(track.service);
      return await observeTrack(
        this.options.plane,
        this.options.prediction,
        service,
        track,
        stable,
        from,
        to,
        {
          ...(this.options.forecaster === undefined ? {} : { forecaster: this.options.forecaster }),
          latencyIncrease: running.spec.tolerance?.latencyIncrease ?? 0,
        },
      );
    } catch (error) {
      return {
        service: track.service,
        from,
        to,
        weight: track.appliedWeight,
        canary: null,
        stable: null,
        crashLoop: false,
        risk: null,
        predicted: null,
        unavailable: error instanceof Error ? error.message : String(error),
      };
    }
  }

  /**
   * Each active canary's requests so far in the current second [to, now), for the hard guard: a
   * canary failing everything is rolled back without waiting for the second to complete. A provider
   * that cannot answer for it costs only this shortcut; the complete windows still decide.
   */
  private async currentSecond(state: ReleaseState, to: number, now: number): Promise<PartialWindow[]> {
    const partial: PartialWindow[] = [];
    for (const track of state.tracks) {
      if (isTerminal(track) || track.phase === 'rolling-back' || track.phase === 'promoting') continue;
      try {
        const w = await this.options.plane.provider.aggregate({
          service: track.service,
          revision: track.canary,
          from: to,
          to: to + 1000,
        });
        // Counts that are not counts are no evidence of failure either.
        if (!validCounts(w)) continue;
        partial.push({
          service: track.service,
          from: to,
          to: now,
          canary: { requests: w.requests, errors: w.errors },
        });
      } catch {
        // No shortcut this tick.
      }
    }
    return partial;
  }

  private applyAll(running: Running, actions: readonly Action[]): void {
    for (const action of actions) {
      if (action.type === 'mitigate') {
        this.runMitigation(running);
      } else if (action.type === 'stop-revision') {
        const delay = Math.max(0, action.notBefore - this.now());
        this.after(delay, () => {
          this.options.plane.stopRevision(action.service, action.revision).catch(() => undefined);
        }).unref();
      } else {
        this.startApplier(running, action.service);
      }
    }
  }

  /**
   * One applier per service: it drives the router towards what the state wants now (a newer target
   * supersedes an older one; a rollback always sends weight 0), retrying with backoff, and stores
   * the confirmation.
   */
  private startApplier(running: Running, service: string): void {
    if (running.appliers.has(service)) return;
    running.appliers.add(service);
    this.applyUntilConfirmed(running, service)
      .catch((error: unknown) => {
        this.report(running, `router applier failed: ${(error as Error).message}`);
        // Restarting at once could spin without ever yielding to a timer: wait first.
        return this.pause(this.retry.maxMs);
      })
      .finally(() => {
        running.appliers.delete(service);
        // A new target may have arrived while this applier was finishing: never drop it.
        const track = running.state.tracks.find((t) => t.service === service);
        if (track !== undefined && routerPending(track) && !this.closed) this.startApplier(running, service);
      });
  }

  private async applyUntilConfirmed(running: Running, service: string): Promise<void> {
    let attempt = 0;
    for (;;) {
      const track = running.state.tracks.find((t) => t.service === service);
      if (this.closed || track === undefined || !routerPending(track)) return;
      if (await this.applyOnce(running, track, attempt + 1)) {
        attempt = 0;
      } else {
        attempt++;
        // Every failed attempt waits on a timer, whatever failed: the router or the store.
        await this.pause(Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * One attempt: the router call, then its confirmation stored. False when either failed: a router
   * failure is stored as an event, and one the store cannot take is reported to observers.
   */
  private async applyOnce(running: Running, track: ServiceTrack, attempt: number): Promise<boolean> {
    const { service, canary } = track;
    const promote = track.phase === 'promoting';
    const target = track.targetWeight;
    try {
      if (promote) await this.options.plane.promote(service, canary);
      else await this.options.plane.setTraffic(service, canary, target);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.enqueue(running, () =>
        this.commit(running, routerFailed(running.state, service, message, attempt, this.now()), false),
      ).catch((failure: unknown) =>
        this.report(
          running,
          `${service}: router failed (${message}), not stored: ${(failure as Error).message}`,
        ),
      );
      return false;
    }
    try {
      await this.enqueue(running, () =>
        this.commit(
          running,
          promote
            ? promotionApplied(running.state, service, this.now())
            : weightApplied(running.state, service, target, this.now()),
          false,
        ),
      );
      return true;
    } catch (error) {
      this.report(
        running,
        `${service}: the router's confirmation could not be stored: ${(error as Error).message}`,
      );
      return false;
    }
  }

  /**
   * Runs the release's pending mitigation step (check, restore, check again) off the release's
   * queue — a restore may take a while — and commits its outcome on the queue, which may ask for
   * the next step. Only one step runs at a time per release.
   */
  private runMitigation(running: Running): void {
    if (running.mitigating) return;
    const runner = this.options.mitigations;
    const pending = running.state.mitigation?.pending ?? null;
    if (runner === undefined || pending === null) return;
    running.mitigating = true;
    const mitigation = running.state.mitigation;
    const work = async (): Promise<MitigationOutcome> => {
      const results =
        pending === 'restore'
          ? await runner.restore(running.spec.mitigations, mitigation?.backups ?? [])
          : await runner.check(running.spec.mitigations);
      return { ok: results.every((r) => r.ok), results };
    };
    work()
      .catch((error: unknown) => ({
        ok: false,
        results: [{ name: 'mitigation', ok: false, detail: (error as Error).message }],
      }))
      .then((outcome) => {
        running.mitigating = false;
        if (this.closed) return undefined;
        return this.enqueue(running, () =>
          this.commit(running, mitigationDone(running.state, outcome, this.now()), false),
        );
      })
      .catch((error: unknown) => {
        running.mitigating = false;
        this.report(running, `mitigation failed: ${(error as Error).message}`);
      });
  }

  private report(running: Running, message: string): void {
    this.options.onEvent?.({
      sequence: -1,
      at: this.now(),
      release: running.state.release,
      service: null,
      type: 'router-failed',
      signal: null,
      message,
      data: {},
    });
  }
}

/** After a restart: the router actions a stored state still waits for. */
function pendingActions(state: ReleaseState): Action[] {
  const actions: Action[] = [];
  for (const track of state.tracks) {
    if (!routerPending(track)) continue;
    // A rolling-back track sends 0 again even if 0 was confirmed: the data plane may have restored
    // a weight requested before the rollback.
    actions.push(
      track.phase === 'promoting'
        ? { type: 'make-stable', service: track.service, revision: track.canary }
        : { type: 'set-weight', service: track.service, revision: track.canary, weight: track.targetWeight },
    );
  }
  // A check or restore that was running when the controller stopped runs again: each is idempotent.
  const step = state.mitigation?.pending ?? null;
  if (step !== null) actions.push({ type: 'mitigate', step });
  return actions;
}
