import type { OperatorCommand } from '../controller/core/commands.js';
import { resumable } from '../controller/core/commands.js';
import type { ReleaseState, ServiceTrack } from '../controller/core/types.js';
import { HttpError, isObject } from './http.js';

export const ACTIONS = ['pause', 'resume', 'promote', 'abort', 'rollback'] as const;
export type ActionName = (typeof ACTIONS)[number];

const TERMINAL = new Set(['promoted', 'rolled-back']);

/** Which tracks an action would change: an action that changes none is a conflict, not a no-op. */
const APPLIES: Record<ActionName, (t: ServiceTrack) => boolean> = {
  pause: (t) => t.phase === 'progressing' || t.phase === 'warning',
  resume: resumable,
  promote: (t) => !TERMINAL.has(t.phase) && t.phase !== 'rolling-back' && t.phase !== 'promoting',
  // A promotion under way is not reversed by a rollback: the core refuses it, and so does the API.
  abort: (t) => !TERMINAL.has(t.phase) && t.phase !== 'promoting',
  rollback: (t) => !TERMINAL.has(t.phase) && t.phase !== 'rolling-back' && t.phase !== 'promoting',
};

/** `{ action, service? }` from a request body, checked against the release's current state. */
export function parseAction(body: unknown, state: ReleaseState): OperatorCommand {
  if (!isObject(body)) throw new HttpError(400, 'BAD_REQUEST', 'body must be { action, service? }');
  const action = body['action'];
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
    throw new HttpError(400, 'BAD_REQUEST', `action must be one of ${ACTIONS.join(', ')}`);
  }
  const name = action as ActionName;
  const service = body['service'];
  if (service !== undefined && typeof service !== 'string')
    throw new HttpError(400, 'BAD_REQUEST', 'service must be a string');
  if (service !== undefined && name === 'abort') {
    throw new HttpError(400, 'BAD_REQUEST', 'abort ends the whole release: use rollback to end one service');
  }
  const changed = state.tracks.map((t) => t.service);
  if (service !== undefined && !changed.includes(service)) {
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `release ${state.release} does not change service "${service}" (it changes: ${changed.join(', ')})`,
    );
  }
  const targets = state.tracks.filter((t) => service === undefined || t.service === service);
  if (!targets.some(APPLIES[name])) {
    const phases = targets.map((t) => `${t.service} is ${t.phase}`).join(', ');
    const promoting = targets.find((t) => t.phase === 'promoting');
    const hint =
      promoting !== undefined && (name === 'abort' || name === 'rollback')
        ? ` — the promotion is under way; to go back, release ${promoting.stable} again as a new release`
        : '';
    throw new HttpError(409, 'CONFLICT', `cannot ${name} ${state.release}: ${phases}${hint}`);
  }
  if (name === 'abort') return { type: 'abort' };
  return service === undefined ? { type: name } : { type: name, service };
}
