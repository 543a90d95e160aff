import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AugurError } from '../core/errors.js';
import { bearerToken, HttpError, reply } from './http.js';
import { planeRoutes } from './routes/plane.js';
import { releaseRoutes } from './routes/releases.js';
import type { ApiDeps, Route } from './routes/route.js';
import { streamRoutes } from './routes/streams.js';
import type { Principal, TokenAuthority } from './tokens.js';
import { roleAllows } from './tokens.js';

export interface ControlApiOptions extends ApiDeps {
  readonly auth: TokenAuthority;
  /**
   * Reads without a token. Only for `augur up`, whose API never leaves loopback: there, anyone
   * on the machine could read the state directory anyway. Mutations always need a token.
   */
  readonly openReads: boolean;
}

/** AugurErrors that describe bad input rather than a conflict with the current state. */
const BAD_INPUT = new Set(['UNKNOWN_SERVICE', 'UNKNOWN_REVISION', 'SPLIT_INVALID']);

const ANONYMOUS: Principal = { name: 'anonymous', role: 'viewer' };

/**
 * The HTTP API of a running Augur: JSON under /api/v1, Server-Sent Events, Prometheus metrics.
 * Every route names the weakest role it accepts; the bearer token decides who is calling.
 */
export class ControlApi {
  private readonly server: Server;
  private readonly routes: Route[];
  private readonly options: ControlApiOptions;

  constructor(options: ControlApiOptions) {
    this.options = options;
    this.routes = [...planeRoutes(options), ...releaseRoutes(options), ...streamRoutes(options)];
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.fail(res, error));
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        resolve(`http://${urlHost(host)}:${address.port}`);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const matching = this.routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((m) => m.match !== null);
    if (matching.length === 0) throw new HttpError(404, 'NOT_FOUND', `no route ${url.pathname}`);
    const found = matching.find((m) => m.route.method === req.method);
    if (found === undefined || found.match === null) {
      const allow = [...new Set(matching.map((m) => m.route.method))].join(', ');
      throw new HttpError(
        405,
        'METHOD_NOT_ALLOWED',
        `${req.method ?? ''} is not allowed here (allowed: ${allow})`,
        {
          allow,
        },
      );
    }
    const { route, match } = found;
    const principal = await this.authenticate(req, route);
    if (!roleAllows(principal.role, route.role)) {
      throw new HttpError(
        403,
        'FORBIDDEN',
        `this needs a token with the ${route.role} role; ${principal.name} has ${principal.role}`,
      );
    }
    let params: string[];
    try {
      params = match.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      throw new HttpError(400, 'BAD_REQUEST', 'malformed percent-encoding in the path');
    }
    await route.handle({ req, res, url, params, principal });
  }

  private async authenticate(req: IncomingMessage, route: Route): Promise<Principal> {
    const token = bearerToken(req);
    if (token === undefined) {
      if (this.options.openReads && route.role === 'viewer') return ANONYMOUS;
      throw new HttpError(401, 'UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer TOKEN)');
    }
    const principal = token === '' ? null : await this.options.auth.authenticate(token);
    if (principal === null) throw new HttpError(401, 'UNAUTHORIZED', 'the bearer token is not valid');
    return principal;
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof HttpError) {
      const headers: Record<string, string> = {};
      if (error.status === 401) headers['www-authenticate'] = 'Bearer realm="augur"';
      const allow = error.details['allow'];
      if (error.status === 405 && typeof allow === 'string') headers['allow'] = allow;
      // The rest of an oversized body is never read: the connection cannot be reused.
      if (error.status === 413) headers['connection'] = 'close';
      const { allow: _allow, ...details } = error.details;
      reply(res, error.status, { error: error.message, code: error.code, ...details }, headers);
      return;
    }
    if (error instanceof AugurError) {
      reply(res, BAD_INPUT.has(error.code) ? 400 : 409, { error: error.message, code: error.code });
      return;
    }
    reply(res, 500, { error: `internal error: ${(error as Error).message}`, code: 'INTERNAL' });
  }
}

/** A wildcard address is not one a client can connect to: name loopback instead. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
