import type { ApplicationConfig } from '../config/types.js';
import { ControlApi } from '../server/api.js';
import type { DataPlaneEvent } from '../server/dataplane.js';
import { DataPlane } from '../server/dataplane.js';
import { publishServer, unpublishServer } from '../server/local-access.js';
import type { Io } from './command.js';
import { eventLine } from './event-lines.js';

export interface Serving {
  readonly plane: DataPlane;
  readonly apiUrl: string;
  readonly token: string;
  stop(): Promise<void>;
}

/**
 * Starts the application's data plane and its control API and publishes the API's address for
 * other CLI commands. `up` and `demo` share this one code path.
 */
export async function serve(
  app: ApplicationConfig,
  io: Io,
  options: { apiPort?: number; quiet?: boolean; onEvent?: (e: DataPlaneEvent) => void } = {},
): Promise<Serving> {
  const stamp = (): string => new Date().toISOString().slice(11, 19);
  const plane = await DataPlane.start({
    app,
    onEvent: (event) => {
      options.onEvent?.(event);
      if (options.quiet === true) return;
      const line = eventLine(event);
      if (line !== null) io.err(`${stamp()} ${line}\n`);
    },
  });
  let token = '';
  const api = new ControlApi(plane, () => token);
  let apiUrl: string;
  try {
    apiUrl = await api.listen(options.apiPort ?? 0);
    token = publishServer(app.stateDir, {
      url: apiUrl,
      pid: process.pid,
      application: app.name,
      startedAt: Date.now(),
    });
  } catch (error) {
    await plane.stop();
    throw error;
  }
  let stopped = false;
  return {
    plane,
    apiUrl,
    token,
    async stop() {
      if (stopped) return;
      stopped = true;
      unpublishServer(app.stateDir);
      await api.close();
      await plane.stop();
    },
  };
}

export function addresses(plane: DataPlane): string {
  return (
    Object.values(plane.application.services)
      .map((s) => {
        const a = plane.router.address(s.name);
        const entry = s.name === plane.application.entrypoint ? '  (entrypoint)' : '';
        return `  ${s.name.padEnd(12)} http://${a.host}:${a.port}  stable ${s.stable}${entry}`;
      })
      .join('\n') + '\n'
  );
}

export function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
