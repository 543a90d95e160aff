/**
 * Whether the services' ports can be bound here. Separate from validation proper because the
 * answer depends on the machine and the moment (a running Augur holds its own ports), so callers
 * opt in: `augur validate --check-ports`, or the server just before it starts.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { ConfigIssue, IssuePath } from './issues.js';
import { SourceDocument, type Position } from './positions.js';
import type { DeploymentConfiguration } from './types.js';

export interface PortTarget {
  readonly service: string;
  readonly port: number;
  readonly file: string;
  readonly path: IssuePath;
  /** Resolved only for the ports that turn out to be taken: finding positions may read the file. */
  readonly position: () => Promise<Position> | Position;
}

function tryBind(port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

export async function probePorts(targets: readonly PortTarget[]): Promise<ConfigIssue[]> {
  const results = await Promise.all(
    targets.map(async (target) => ({ target, error: await tryBind(target.port) })),
  );
  const issues: ConfigIssue[] = [];
  for (const { target, error } of results) {
    if (error === undefined) continue;
    const inUse = error.code === 'EADDRINUSE';
    const message = inUse
      ? `port ${target.port} of service ${target.service} is already in use on 127.0.0.1`
      : `port ${target.port} of service ${target.service} cannot be bound on 127.0.0.1: ${error.code ?? error.message}`;
    const { line, column } = await target.position();
    issues.push({
      file: target.file,
      line,
      column,
      path: target.path,
      code: inUse ? 'port_in_use' : 'port_unavailable',
      message,
    });
  }
  return issues;
}

/** Finds the Application in its source file again, to point at the `port` keys. */
async function locatorFor(file: string): Promise<(path: IssuePath) => Position> {
  const fallback = (): Position => ({ line: 1, column: 1 });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return fallback;
  }
  const lineCounter = new LineCounter();
  const doc = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const app = Array.isArray(doc) ? doc.find((d) => d.get('kind') === 'Application') : undefined;
  if (app === undefined) return fallback;
  const source = new SourceDocument(file, app, lineCounter);
  return (path) => source.position(path);
}

/** One issue per service port that 127.0.0.1 cannot bind (`port_in_use` for EADDRINUSE). */
export async function checkPortsFree(config: DeploymentConfiguration): Promise<ConfigIssue[]> {
  const { application } = config;
  let locate: Promise<(path: IssuePath) => Position> | undefined;
  const targets = Object.values(application.services).map((service): PortTarget => {
    const path = ['spec', 'services', service.name, 'port'];
    return {
      service: service.name,
      port: service.port,
      file: application.source,
      path,
      position: async () => (await (locate ??= locatorFor(application.source)))(path),
    };
  });
  return probePorts(targets);
}
