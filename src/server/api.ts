import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AugurError } from '../core/errors.js';
import { percentToBasisPoints } from '../config/types.js';
import type { DataPlane } from './dataplane.js';
import { tokenMatches } from './local-access.js';
import { metricsReport } from './metrics-report.js';

const MAX_BODY = 64 * 1024;

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * The control API of a running data plane, on loopback. Reads are open to local callers;
 * every mutation needs the admin bearer token.
 */
export class ControlApi {
  private readonly server: Server;
  private readonly plane: DataPlane;
  private readonly token: () => string;

  constructor(plane: DataPlane, token: () => string) {
    this.plane = plane;
    this.token = token;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => reply(res, 500, { error: (error as Error).message }));
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const address = this.server.address() as AddressInfo;
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method === 'GET' && url.pathname === '/api/v1/status') {
        return reply(res, 200, await this.status());
      }
      if (req.method === 'GET' && url.pathname === '/api/v1/metrics') {
        const windowSeconds = Number(url.searchParams.get('window') ?? '60');
        if (!Number.isFinite(windowSeconds) || windowSeconds <= 0)
          throw new HttpError(400, 'window must be > 0 seconds');
        const service = url.searchParams.get('service') ?? undefined;
        return reply(res, 200, await metricsReport(this.plane, windowSeconds * 1000, service));
      }
      const traffic = /^\/api\/v1\/services\/([^/]+)\/traffic$/.exec(url.pathname);
      if (traffic !== null && (req.method === 'PUT' || req.method === 'POST')) {
        this.authorize(req);
        const body = (await readJson(req)) as { revision?: unknown; weight?: unknown };
        if (typeof body.revision !== 'string') throw new HttpError(400, 'revision (string) is required');
        if (typeof body.weight !== 'number' || !(body.weight >= 0 && body.weight <= 100)) {
          throw new HttpError(400, 'weight must be a number of percent in [0, 100]');
        }
        const bp = percentToBasisPoints(body.weight);
        if (Math.abs(bp - body.weight * 100) > 1e-6)
          throw new HttpError(400, 'weight is limited to steps of 0.01%');
        const split = await this.plane.setTraffic(decodeURIComponent(traffic[1] ?? ''), body.revision, bp);
        return reply(res, 200, split);
      }
      throw new HttpError(404, `no route ${req.method ?? ''} ${url.pathname}`);
    } catch (error) {
      if (error instanceof HttpError) return reply(res, error.status, { error: error.message });
      if (error instanceof AugurError) return reply(res, 409, { error: error.message, code: error.code });
      throw error;
    }
  }

  private authorize(req: IncomingMessage): void {
    const header = req.headers.authorization;
    const presented = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length) : undefined;
    if (!tokenMatches(presented, this.token())) throw new HttpError(401, 'a valid bearer token is required');
  }

  private async status(): Promise<unknown> {
    const splits = await this.plane.splits();
    const instances = this.plane.instances();
    return {
      application: this.plane.application.name,
      services: Object.values(this.plane.application.services).map((s) => ({
        name: s.name,
        address: this.plane.router.address(s.name),
        stable: s.stable,
        revisions: Object.keys(s.revisions),
        split: splits.find((x) => x.service === s.name),
        instances: instances.filter((i) => i.service === s.name),
      })),
    };
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'request body must be JSON');
  }
}
