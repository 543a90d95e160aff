import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AugurError } from '../core/errors.js';
import { redactSecrets } from '../core/redact.js';
import { isLoopbackHost } from '../core/loopback.js';
import { refuseForeignCaller } from './host-check.js';
import { bearerToken, HttpError, reply } from './http.js';
import type { ApiLimits } from './limits.js';
import { API_LIMITS } from './limits.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { planeRoutes } from './routes/plane.js';
import { releaseRoutes } from './routes/releases.js';
import type { ApiDeps, Route } from './routes/route.js';
import { streamRoutes } from './routes/streams.js';
import type { Principal, TokenAuthority, TokenRole } from './tokens.js';
import { roleAllows } from './tokens.js';

export interface ControlApiOptions extends ApiDeps {
  readonly auth: TokenAuthority;
  /**
   * Reads without a token. Only for `augur up`, whose API never leaves loopback: there, anyone
   * on the machine could read the state directory anyway. Mutations always need a token.
   */
  readonly openReads: boolean;
  readonly limits?: Partial<ApiLimits>;
  /** Where the details of internal errors go (the client is told only that one happened). */
  readonly log?: (line: string) => void;
}

/** AugurErrors that describe bad input rather than a conflict with the current state. */
const BAD_INPUT = new Set(['UNKNOWN_SERVICE', 'UNKNOWN_REVISION', 'SPLIT_INVALID']);

const ANONYMOUS: Principal = { name: 'anonymous', role: 'viewer' };

/**
 * The HTTP API of a running Augur: JSON under /api/v1, Server-Sent Events, Prometheus metrics,
 * and the dashboard at `/` (a static page that reads the same API from the browser).
 * Every route names the weakest role it accepts; the bearer token decides who is calling.
 */
export class ControlApi {
  private readonly server: Server;
  private readonly routes: Route[];
  private readonly options: ControlApiOptions;
  private readonly log: (line: string) => void;
  /** Set by `listen`: an API on loopback answers only requests addressed to loopback. */
  private loopbackOnly = false;

  constructor(options: ControlApiOptions) {
    this.options = options;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    const limits = { ...API_LIMITS, ...options.limits };
    this.routes = [
      ...dashboardRoutes(),
      ...planeRoutes(options),
      ...releaseRoutes(options),
      ...streamRoutes(options, limits),
    ];
    this.server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        connectionsCheckingInterval: limits.timeoutCheckMs,
      },
      (req, res) => {
        this.handle(req, res).catch((error: unknown) => this.fail(req, res, error));
      },
    );
  }

  listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.loopbackOnly = isLoopbackHost(host);
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
    if (this.loopbackOnly) refuseForeignCaller(req);
    const url = requestUrl(req);
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
    const role = route.role;
    if (role === 'none') {
      const always = (): Promise<boolean> => Promise.resolve(true);
      await route.handle({
        req,
        res,
        url,
        params: decodeParams(match),
        principal: ANONYMOUS,
        authorized: always,
      });
      return;
    }
    const token = bearerToken(req);
    const principal = await this.authenticate(token, role);
    if (!roleAllows(principal.role, role)) {
      throw new HttpError(
        403,
        'FORBIDDEN',
        `this needs a token with the ${role} role; ${principal.name} has ${principal.role}`,
      );
    }
    const params = decodeParams(match);
    // Long-lived responses ask again later: a token revoked since must not keep its stream.
    const authorized = (): Promise<boolean> =>
      this.authenticate(token, role).then(
        (again) => roleAllows(again.role, role),
        () => false,
      );
    await route.handle({ req, res, url, params, principal, authorized });
  }

  private async authenticate(token: string | undefined, role: TokenRole): Promise<Principal> {
    if (token === undefined) {
      if (this.options.openReads && role === 'viewer') return ANONYMOUS;
      throw new HttpError(401, 'UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer TOKEN)');
    }
    const principal = token === '' ? null : await this.options.auth.authenticate(token);
    if (principal === null) throw new HttpError(401, 'UNAUTHORIZED', 'the bearer token is not valid');
    return principal;
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    // A refused request's body is never read: rather than take it in to find where the next
    // request starts, the connection is closed once the answer is out.
    if (!req.complete) headers['connection'] = 'close';
    if (error instanceof HttpError) {
      if (error.status === 401) headers['www-authenticate'] = 'Bearer realm="augur"';
      const allow = error.details['allow'];
      if (error.status === 405 && typeof allow === 'string') headers['allow'] = allow;
      const { allow: _allow, ...details } = error.details;
      reply(
        res,
        error.status,
        { error: redactSecrets(error.message), code: error.code, ...details },
        headers,
      );
      return;
    }
    if (error instanceof AugurError) {
      const status = BAD_INPUT.has(error.code) ? 400 : 409;
      reply(res, status, { error: redactSecrets(error.message), code: error.code }, headers);
      return;
    }
    // An internal error's message may name files, queries or addresses: it goes to the log only.
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    this.log(redactSecrets(`augur api: internal error on ${req.method ?? '?'} ${path}: ${detail}`));
    reply(res, 500, { error: 'internal error: the server log has the details', code: 'INTERNAL' }, headers);
  }
}

function decodeParams(match: RegExpExecArray): string[] {
  try {
    return match.slice(1).map((p) => decodeURIComponent(p));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'the request target is not a valid path');
  }
}

/** A wildcard address is not one a client can connect to: name loopback instead. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
