import { setTimeout as sleep } from 'node:timers/promises';
import type { ReleaseConfig } from '../../config/index.js';
import type { RolloutController } from '../../controller/controller.js';
import type { ReleaseEvent } from '../../controller/core/events.js';
import type { Random } from '../../core/random.js';
import type { DataPlane } from '../../server/dataplane.js';
import { CANARY_PERCENT } from './app.js';
import { get } from './load.js';

/** Lets a trial wait for the controller's events (registered before the action that causes them). */
export class EventWaiter {
  private readonly waiting = new Set<{
    test: (e: ReleaseEvent) => boolean;
    done: (e: ReleaseEvent) => void;
  }>();

  readonly onEvent = (event: ReleaseEvent): void => {
    for (const w of [...this.waiting]) {
      if (w.test(event)) {
        this.waiting.delete(w);
        w.done(event);
      }
    }
  };

  next(test: (e: ReleaseEvent) => boolean, timeoutMs: number, what: string): Promise<ReleaseEvent> {
    return new Promise((resolve, reject) => {
      const entry = {
        test,
        done: (e: ReleaseEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiting.delete(entry);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiting.add(entry);
    });
  }
}

export interface TrialResult {
  readonly mode: string;
  /** From the canary's switch to failing to the router confirming weight 0 (weight-applied). */
  readonly reactionMs: number;
  /** From the switch to the RED decision. */
  readonly decisionMs: number;
  /** The finding that decided: hard-guard, error-rate-limit, … */
  readonly decidedBy: string;
  /** Where in its second the switch fell, 0–999 ms. */
  readonly phaseMs: number;
}

const weightApplied =
  (release: string, weight: number) =>
  (e: ReleaseEvent): boolean =>
    e.release === release && e.type === 'weight-applied' && e.data.weight === weight;

/**
 * One trial: a fresh release puts the (healthy) canary at 10% under steady load; after a random
 * 1–2 s the canary is switched to fail every request; the trial measures until the controller
 * records the router's confirmation of weight 0.
 */
export async function runTrial(options: {
  readonly plane: DataPlane;
  readonly controller: RolloutController;
  readonly waiter: EventWaiter;
  readonly template: ReleaseConfig;
  readonly name: string;
  readonly mode: string;
  readonly random: Random;
}): Promise<TrialResult> {
  const { plane, controller, waiter, template, name, mode, random } = options;
  for (const e of plane.runtime.endpoints('echo', 'v2')) await get(e.port, '/heal');
  // A release's first window starts at the whole second it started in: begin in a second the
  // previous trial's failing canary requests are not part of.
  await sleep(1050 - (Date.now() % 1000));
  const placed = waiter.next(weightApplied(name, CANARY_PERCENT * 100), 20_000, `${name} at 10%`);
  await controller.submit({ ...template, name });
  await placed;
  await sleep(1000 + Math.floor(random.next() * 1000));
  const canary = plane.runtime.endpoints('echo', 'v2')[0];
  if (canary === undefined) throw new Error('the canary has no endpoint');
  const zero = waiter.next(weightApplied(name, 0), 15_000, `${name} at 0`);
  const red = waiter.next(
    (e) => e.release === name && e.type === 'decision' && e.signal === 'RED',
    15_000,
    `${name} RED`,
  );
  // A YELLOW (warning) track still rolls back on RED; anything else would spoil the trial.
  const before = controller.state(name)?.tracks[0]?.phase;
  if (before !== 'progressing' && before !== 'warning') {
    throw new Error(`${name} is ${before ?? 'gone'} before its canary failed`);
  }
  const switchedAt = Number(await get(canary.port, '/fail'));
  const [applied, decision] = await Promise.all([zero, red]);
  const split = await plane.router.getSplit('echo');
  if (split.canaryWeight !== 0) throw new Error(`router still sends ${split.canaryWeight} bp to the canary`);
  const phase = await controller.wait(name);
  if (phase !== 'rolled-back') throw new Error(`${name} ended ${phase}`);
  const findings = (decision.data.findings ?? []) as readonly { readonly test?: string }[];
  return {
    mode,
    reactionMs: applied.at - switchedAt,
    decisionMs: decision.at - switchedAt,
    decidedBy: findings.map((f) => f.test ?? '?').join('+') || 'other',
    phaseMs: switchedAt % 1000,
  };
}
