import type { ModelService } from '../calibration/service.js';
import type { RolloutController } from '../controller/controller.js';
import type { ObservedForecaster } from '../predict/forecast.js';
import type { ReleaseEvent } from '../controller/core/events.js';
import { unavailableBackends } from '../config/available.js';
import type { ApplicationConfig, ReleaseConfig } from '../config/types.js';
import type { AugurServerOptions } from '../server/augur-server.js';
import { startAugurServer } from '../server/augur-server.js';
import type { DataPlane, DataPlaneEvent } from '../server/dataplane.js';
import type { EventHub } from '../server/event-hub.js';
import type { Io } from './command.js';
import { redactDeep } from '../core/redact.js';
import { ConfigInvalidError } from './config-files.js';
import { eventLine } from './event-lines.js';

export interface Serving {
  readonly plane: DataPlane;
  readonly apiUrl: string;
  /** The local admin token published in the state directory. */
  readonly token: string;
  /** Null unless `runReleases` was asked for. */
  readonly controller: RolloutController | null;
  /** With `runReleases`: the model learning from production, and the forecaster using it. */
  readonly models: ModelService | null;
  readonly forecaster: ObservedForecaster | null;
  readonly hub: EventHub;
  /** Releases resumed where an earlier run left them. */
  readonly resumed: readonly string[];
  stop(): Promise<void>;
}

export interface ServeOptions {
  readonly apiPort?: number;
  /** Address of the API; loopback unless given. */
  readonly apiHost?: string;
  readonly quiet?: boolean;
  readonly onEvent?: (e: DataPlaneEvent) => void;
  readonly onReleaseEvent?: (e: ReleaseEvent) => void;
  /** Run the rollout controller in this process (resume releases, accept submissions). */
  readonly runReleases?: boolean;
  /** Reads need no token. Default: only when the API stays on loopback (no apiHost). */
  readonly openReads?: boolean;
  /** Releases in the files the process was started with (see AugurServerOptions.releases). */
  readonly releases?: readonly ReleaseConfig[];
  /** How the model learns (see AugurServerOptions.learning). */
  readonly learning?: AugurServerOptions['learning'];
}

/**
 * Starts the application's data plane, the controller when asked, and the API, and publishes the
 * API's address for other CLI commands, printing data-plane events unless quiet. `server`, `up`,
 * `demo` and `rollout --embedded` share this one code path.
 */
export async function serve(app: ApplicationConfig, io: Io, options: ServeOptions = {}): Promise<Serving> {
  const unavailable = unavailableBackends(app);
  if (unavailable.length > 0) throw new ConfigInvalidError(unavailable.join('\n'), unavailable.length);
  const stamp = (): string => new Date().toISOString().slice(11, 19);
  const serverOptions: AugurServerOptions = {
    app,
    port: options.apiPort ?? 0,
    // Reads stay open on loopback, as `augur up` has always served them; mutations need a token.
    openReads: options.openReads ?? options.apiHost === undefined,
    runReleases: options.runReleases ?? false,
    releases: options.releases ?? [],
    onPlaneEvent: (event) => {
      options.onEvent?.(event);
      if (options.quiet === true) return;
      const line = eventLine(event);
      if (line !== null) io.err(`${stamp()} ${line}\n`);
    },
    ...(options.apiHost !== undefined ? { host: options.apiHost } : {}),
    ...(options.onReleaseEvent !== undefined ? { onReleaseEvent: options.onReleaseEvent } : {}),
    ...(options.learning !== undefined ? { learning: options.learning } : {}),
  };
  const server = await startAugurServer(serverOptions);
  return {
    plane: server.plane,
    apiUrl: server.url,
    token: server.localToken,
    controller: server.controller,
    models: server.models,
    forecaster: server.forecaster,
    hub: server.hub,
    resumed: server.resumed,
    stop: () => server.stop(),
  };
}

export function addresses(plane: DataPlane): string {
  return (
    Object.values(plane.application.services)
      .map((s) => {
        const a = plane.router.address(s.name);
        const entry = s.name === plane.application.entrypoint ? '  (entrypoint)' : '';
        return `  ${s.name.padEnd(12)} http://${a.host}:${a.port}  stable ${plane.stableOf(s.name)}${entry}`;
      })
      .join('\n') + '\n'
  );
}

/**
 * What `up --json` and `server --json` print first, as one JSON line on stdout: where everything
 * listens. Data-plane and release events follow, a line each ({ type: 'plane' | 'release', event }),
 * then { type: 'stopped' }.
 */
export function readyDocument(serving: Serving, resumed: readonly string[] = []): Record<string, unknown> {
  const { plane } = serving;
  return {
    type: 'ready',
    application: plane.application.name,
    api: serving.apiUrl,
    dashboard: `${serving.apiUrl}/`,
    services: Object.values(plane.application.services).map((s) => {
      const a = plane.router.address(s.name);
      return {
        service: s.name,
        url: `http://${a.host}:${a.port}`,
        stable: plane.stableOf(s.name),
        entrypoint: s.name === plane.application.entrypoint,
      };
    }),
    resumed,
  };
}

/** One JSON document on one line, secrets masked (release events may quote a check's URL). */
export function jsonLine(io: Io, document: unknown): void {
  io.out(`${JSON.stringify(redactDeep(document))}\n`);
}

/**
 * JSON lines whose first is the ready document: events that come while the application starts
 * wait for it, so that a reader learns the addresses before anything else.
 */
export function jsonLines(io: Io): { event(document: unknown): void; ready(document: unknown): void } {
  let held: unknown[] | null = [];
  return {
    event(document) {
      if (held === null) jsonLine(io, document);
      else held.push(document);
    },
    ready(document) {
      jsonLine(io, document);
      for (const early of held ?? []) jsonLine(io, early);
      held = null;
    },
  };
}

export function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
