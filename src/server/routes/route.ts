import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RolloutController } from '../../controller/controller.js';
import type { DataPlane } from '../dataplane.js';
import type { EventHub } from '../event-hub.js';
import type { IntakePolicy } from '../release-intake.js';
import type { ServerMetrics } from '../server-metrics.js';
import type { Principal, TokenRole } from '../tokens.js';

/** Everything a route may use: the composition's parts, passed in, never reached for. */
export interface ApiDeps {
  readonly plane: DataPlane;
  /** Null when this process runs no controller: release mutations answer 503. */
  readonly controller: RolloutController | null;
  readonly hub: EventHub;
  readonly metrics: ServerMetrics;
  readonly policy: IntakePolicy;
}

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Decoded capture groups of the route's pattern. */
  readonly params: readonly string[];
  readonly principal: Principal;
  /** Whether the request's credentials would still be accepted now (asked by long-lived responses). */
  readonly authorized: () => Promise<boolean>;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly pattern: RegExp;
  /**
   * The weakest role allowed; `none` for what holds no data (the dashboard's page and its files):
   * served to anyone, without looking at a token.
   */
  readonly role: TokenRole | 'none';
  readonly handle: (ctx: RouteContext) => Promise<void>;
}

export function param(ctx: RouteContext, index: number): string {
  return ctx.params[index] ?? '';
}
