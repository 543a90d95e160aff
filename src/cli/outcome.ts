import type { ReleasePhase } from '../controller/core/types.js';

/** Exit codes of `rollout`, by how the release ended; documented in its help. */
export const OUTCOME_EXIT: Record<ReleasePhase, number> = {
  promoted: 0,
  'rolled-back': 3,
  aborted: 4,
  mixed: 5,
  running: 1,
};

export function outcomeExit(phase: string): number {
  return OUTCOME_EXIT[phase as ReleasePhase] ?? 1;
}
