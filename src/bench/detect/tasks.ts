import { JUDGES, runStream, streamSeed } from './run-stream.js';
import type { Outcome } from './run-stream.js';
import { AA, CASES, ROLLOUT } from './scenario.js';

/** A slice of the work: streams [from, to) of one case, or of the A/A rollouts. */
export type Task =
  | { readonly kind: 'case'; readonly caseIndex: number; readonly from: number; readonly to: number }
  | { readonly kind: 'aa'; readonly from: number; readonly to: number };

/** Fields per judge per stream in a task's result. */
export const FIELDS = 5;

/** The A/A rollouts draw from their own seeds, apart from every case's. */
const AA_SEED_SPACE = 1_000_000;

/**
 * Plays a task's streams; per stream and judge: rolled back, promoted, samples, bad requests, the
 * second of the decision (NaN: none).
 */
export function runTask(task: Task): Float64Array {
  const out = new Float64Array((task.to - task.from) * JUDGES.length * FIELDS);
  let at = 0;
  for (let i = task.from; i < task.to; i++) {
    const outcomes =
      task.kind === 'aa'
        ? runStream(AA, ROLLOUT, streamSeed(AA_SEED_SPACE, i), i)
        : runCase(task.caseIndex, i);
    for (const o of outcomes) {
      out[at++] = o.rolledBack ? 1 : 0;
      out[at++] = o.promoted ? 1 : 0;
      out[at++] = o.samples;
      out[at++] = o.badRequests;
      out[at++] = o.decidedAtS ?? Number.NaN;
    }
  }
  return out;
}

function runCase(caseIndex: number, stream: number): Outcome[] {
  const c = CASES[caseIndex];
  if (c === undefined) throw new RangeError(`no case ${caseIndex}`);
  return runStream(c.effect, c.plan, streamSeed(caseIndex, stream), stream);
}

/** Decodes a task's result into outcomes[stream][judge]. */
export function decode(result: Float64Array): Outcome[][] {
  const perStream = JUDGES.length * FIELDS;
  const streams: Outcome[][] = [];
  for (let s = 0; s * perStream < result.length; s++) {
    streams.push(
      JUDGES.map((_, k) => {
        const base = s * perStream + k * FIELDS;
        return {
          rolledBack: result[base] === 1,
          promoted: result[base + 1] === 1,
          samples: result[base + 2] ?? 0,
          badRequests: result[base + 3] ?? 0,
          decidedAtS: Number.isNaN(result[base + 4]) ? null : (result[base + 4] ?? null),
        };
      }),
    );
  }
  return streams;
}
