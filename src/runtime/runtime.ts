/**
 * The runtime port: starts and stops the revisions of services. The process runtime (runtime/process)
 * is the embedded default; a Kubernetes runtime would implement the same interface.
 */
import type { ServiceConfig } from '../config/types.js';
import type { Endpoint } from '../router/router.js';

export interface InstanceRef {
  readonly service: string;
  readonly revision: string;
  readonly replica: number;
}

export type InstanceState = 'starting' | 'ready' | 'restarting' | 'stopping';

export interface InstanceInfo extends InstanceRef {
  readonly pid: number | null;
  readonly port: number;
  readonly state: InstanceState;
  readonly restarts: number;
  readonly logFile: string;
}

export type RuntimeEvent =
  | (InstanceRef & { readonly type: 'started'; readonly pid: number; readonly port: number })
  | (InstanceRef & {
      readonly type: 'ready';
      readonly pid: number;
      readonly port: number;
      readonly afterMs: number;
    })
  | (InstanceRef & {
      readonly type: 'crashed';
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
    })
  | (InstanceRef & { readonly type: 'restarting'; readonly attempt: number; readonly delayMs: number })
  | (InstanceRef & { readonly type: 'crash-loop'; readonly crashes: number; readonly windowMs: number })
  | (InstanceRef & { readonly type: 'stopped'; readonly pid: number; readonly forced: boolean })
  | {
      readonly type: 'orphan-stopped';
      readonly pid: number;
      readonly service: string;
      readonly revision: string;
    };

export interface RuntimeObserver {
  onRuntimeEvent(event: RuntimeEvent): void;
}

export interface Runtime {
  /** Starts every replica of the revision and resolves once all are ready (or rejects, leaving none). */
  start(service: ServiceConfig, revision: string): Promise<void>;
  stop(service: string, revision: string): Promise<void>;
  /** Ready instances of a revision: what the router may send traffic to. */
  endpoints(service: string, revision: string): Endpoint[];
  isRunning(service: string, revision: string): boolean;
  instances(): InstanceInfo[];
  /** Live processes, for CPU and memory sampling. */
  processes(): readonly { service: string; revision: string; pid: number }[];
  /** Whether some replica crashed at least the crash-loop threshold of times within its window. */
  crashLooping(service: string, revision: string): boolean;
  stopAll(): Promise<void>;
}
