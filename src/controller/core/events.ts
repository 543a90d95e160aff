import type { Signal } from './types.js';

/** Everything the controller decides or learns becomes one of these, persisted before it takes effect. */
export type ReleaseEventType =
  | 'release-started'
  | 'tier-started'
  | 'observation'
  | 'decision'
  | 'weight-requested'
  | 'weight-applied'
  | 'router-failed'
  | 'warning'
  | 'resumed'
  | 'paused'
  | 'outage'
  | 'rollback-started'
  | 'rolled-back'
  | 'promoted'
  | 'release-ended'
  | 'mitigation'
  | 'operator';

export interface ReleaseEvent {
  readonly sequence: number;
  readonly at: number;
  readonly release: string;
  readonly service: string | null;
  readonly type: ReleaseEventType;
  readonly signal: Signal | null;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** What the core asks the outside world to do, in order, once its events are stored. */
export type Action =
  | { readonly type: 'mitigate'; readonly step: 'check' | 'restore' | 'recheck' }
  | {
      readonly type: 'set-weight';
      readonly service: string;
      readonly revision: string;
      readonly weight: number;
    }
  | {
      readonly type: 'stop-revision';
      readonly service: string;
      readonly revision: string;
      readonly notBefore: number;
    }
  | { readonly type: 'make-stable'; readonly service: string; readonly revision: string };
