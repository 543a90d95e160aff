/**
 * The traffic-router port: one implementation per data plane (builtin proxy, HAProxy, NGINX, …),
 * all held to the same contract suite.
 */

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface TrafficSplit {
  readonly service: string;
  readonly stable: string;
  /** Revision receiving `canaryWeight`; null when the service has no canary. */
  readonly canary: string | null;
  /** Basis points 0..10,000 of the service's traffic sent to the canary. */
  readonly canaryWeight: number;
}

export interface TrafficRouter {
  readonly kind: string;
  /** Where a service's revision can be reached; an empty list takes the revision out. */
  setEndpoints(service: string, revision: string, endpoints: readonly Endpoint[]): Promise<void>;
  /** Resolves once the data plane applies the split: callers may then report it as done. */
  setSplit(split: TrafficSplit): Promise<void>;
  getSplit(service: string): Promise<TrafficSplit>;
  close(): Promise<void>;
}

export function validateSplit(split: TrafficSplit): string | null {
  if (!Number.isInteger(split.canaryWeight) || split.canaryWeight < 0 || split.canaryWeight > 10_000) {
    return `canary weight must be an integer number of basis points in 0..10000, got ${split.canaryWeight}`;
  }
  if (split.canary === null && split.canaryWeight !== 0) return 'a canary weight needs a canary revision';
  if (split.canary === split.stable) return 'the canary revision must differ from the stable one';
  return null;
}
