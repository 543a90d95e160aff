import type { Second } from './stream.js';

/** How a judge's release ended, or `running` when the horizon came first. */
export type Verdict = 'rolled-back' | 'promoted' | 'running';

/**
 * One way of deciding a canary's fate, driven second by second on the shared request stream. The
 * runner asks for the split, routes the second's requests with it, then lets the judge decide.
 */
export interface Judge {
  readonly name: string;
  /** Canary share in [0, 1] for the coming second (0 once rolled back). */
  share(): number;
  /** The second's requests as this judge's split routed them (canary iff u < share). */
  consume(second: Second, share: number): void;
  /** End of second `t` (seconds since the release started): the judge may decide. */
  endSecond(t: number): void;
  readonly verdict: Verdict;
}

/** Counts the canary's requests of one second under `share`. */
export function canaryCount(second: Second, share: number): number {
  let count = 0;
  for (let i = 0; i < second.n; i++) if ((second.u[i] ?? 1) < share) count++;
  return count;
}

/**
 * Peers walk the same tiers as Augur but promote after their last step below 100% (Flagger's
 * maxWeight, Argo's last setWeight), so a rollout plan's steps exclude the 100% tier.
 */
export function peerSteps(tiers: readonly number[]): number[] {
  const below = tiers.filter((t) => t < 100);
  return (below.length > 0 ? below : tiers).map((t) => t / 100);
}
