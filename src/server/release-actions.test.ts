import { describe, expect, it } from 'vitest';
import type { ReleaseState, ServiceTrack } from '../controller/core/types.js';
import { parseAction } from './release-actions.js';

const state = (...phases: ServiceTrack['phase'][]): ReleaseState =>
  ({
    release: 'r',
    tracks: phases.map((phase, i) => ({ service: `s${i}`, stable: 'v1', canary: 'v2', phase })),
  }) as unknown as ReleaseState;

describe('parseAction', () => {
  it('refuses to roll back or abort a promotion under way, and says how to go back', () => {
    for (const action of ['rollback', 'abort']) {
      expect(() => parseAction({ action }, state('promoting'))).toThrow(
        /s0 is promoting — the promotion is under way; to go back, release v1 again/,
      );
    }
  });

  it('lets a rollback through while another track can still take it', () => {
    expect(parseAction({ action: 'rollback' }, state('promoting', 'progressing'))).toEqual({
      type: 'rollback',
    });
    expect(parseAction({ action: 'abort' }, state('promoting', 'warning'))).toEqual({ type: 'abort' });
  });
});
