import { randomBytes } from 'node:crypto';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AugurError } from '../../core/errors.js';
import type { RequestObserver, RequestOutcome } from '../../metrics/observer.js';
import { bucketOf, isCanary } from '../buckets.js';
import type { Endpoint, TrafficRouter, TrafficSplit } from '../router.js';
import { validateSplit } from '../router.js';
import { KEY_HEADER, keyCookie, requestKey } from './request-key.js';

export const REVISION_HEADER = 'x-augur-revision';

export interface RoutedService {
  readonly name: string;
  /** Port the router listens on for this service (0: any free port, for tests). */
  readonly port: number;
  readonly stable: string;
  readonly timeoutMs: number;
  /** The entrypoint mints a key cookie for clients that bring none. */
  readonly entrypoint: boolean;
}

export interface BuiltinRouterOptions {
  readonly services: readonly RoutedService[];
  readonly observer: RequestObserver;
  /** Listen address; loopback by default. */
  readonly host?: string;
}

interface RevisionPool {
  endpoints: readonly Endpoint[];
  next: number;
}

interface ServiceState {
  readonly config: RoutedService;
  split: TrafficSplit;
  readonly pools: Map<string, RevisionPool>;
  readonly agent: Agent;
  server: Server | null;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

/**
 * The embedded data plane: a node:http reverse proxy per service that splits traffic by sticky
 * buckets, balances across replicas over keep-alive pools, enforces the service's timeout, and
 * reports every request to the metrics observer.
 */
export class BuiltinRouter implements TrafficRouter {
  readonly kind = 'builtin';
  private readonly services = new Map<string, ServiceState>();
  private readonly host: string;
  private readonly observer: RequestObserver;

  constructor(options: BuiltinRouterOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.observer = options.observer;
    for (const config of options.services) {
      this.services.set(config.name, {
        config,
        split: { service: config.name, stable: config.stable, canary: null, canaryWeight: 0 },
        pools: new Map(),
        agent: new Agent({
          keepAlive: true,
          maxSockets: 1024,
          maxFreeSockets: 256,
          scheduling: 'lifo',
          noDelay: true,
        }),
        server: null,
      });
    }
  }

  /** Opens a listener per service. Fails whole (closing what it opened) if any port is taken. */
  async start(): Promise<void> {
    try {
      for (const state of this.services.values()) {
        const server = createServer({ keepAlive: true }, (req, res) => this.handle(state, req, res));
        server.keepAliveTimeout = 65_000;
        await listen(server, state.config.port, this.host, state.config.name);
        state.server = server;
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** The address a service's listener is bound to. */
  address(service: string): Endpoint {
    const server = this.state(service).server;
    if (server === null) throw new AugurError('ROUTER_NOT_STARTED', 'the router is not listening');
    const info = server.address() as AddressInfo;
    return { host: this.host, port: info.port };
  }

  setEndpoints(service: string, revision: string, endpoints: readonly Endpoint[]): Promise<void> {
    const pools = this.state(service).pools;
    const pool = pools.get(revision);
    if (pool === undefined) pools.set(revision, { endpoints: [...endpoints], next: 0 });
    else pool.endpoints = [...endpoints];
    return Promise.resolve();
  }

  setSplit(split: TrafficSplit): Promise<void> {
    const state = this.state(split.service);
    const problem = validateSplit(split);
    if (problem !== null) return Promise.reject(new AugurError('SPLIT_INVALID', problem));
    state.split = { ...split };
    return Promise.resolve();
  }

  getSplit(service: string): Promise<TrafficSplit> {
    return Promise.resolve({ ...this.state(service).split });
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.services.values()].map(async (state) => {
        const server = state.server;
        state.server = null;
        state.agent.destroy();
        if (server !== null) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      }),
    );
  }

  private state(service: string): ServiceState {
    const state = this.services.get(service);
    if (state === undefined)
      throw new AugurError('UNKNOWN_SERVICE', `the router has no service "${service}"`);
    return state;
  }

  private handle(state: ServiceState, req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const { split, config } = state;
    let key = requestKey(req);
    let mintedCookie: string | null = null;
    if (key === null) {
      if (config.entrypoint) {
        key = randomBytes(9).toString('base64url');
        mintedCookie = keyCookie(key);
      } else {
        key = req.socket.remoteAddress ?? 'unknown';
      }
    }
    const revision =
      split.canary !== null && isCanary(bucketOf(config.name, key), split.canaryWeight)
        ? split.canary
        : split.stable;
    const service = config.name;
    this.observer.requestStarted(service, revision);

    let done = false;
    let timer: NodeJS.Timeout | undefined = undefined;
    const finish = (status: number, outcome: RequestOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.observer.requestEnded(service, revision, performance.now() - started, status, outcome);
    };
    const fail = (status: number, outcome: RequestOutcome, message: string): void => {
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'text/plain', [REVISION_HEADER]: revision });
        res.end(message);
      } else {
        res.destroy();
      }
      finish(status, outcome);
    };

    const endpoint = pick(state.pools.get(revision));
    if (endpoint === null) {
      req.resume();
      fail(502, 'error', `no running instance of ${service} ${revision}\n`);
      return;
    }

    const headers = forwardHeaders(req.headers, key, req.socket.remoteAddress);
    const upstream = httpRequest({
      agent: state.agent,
      host: endpoint.host,
      port: endpoint.port,
      method: req.method,
      path: req.url,
      headers,
    });
    timer = setTimeout(() => {
      upstream.destroy();
      fail(504, 'timeout', `${service} ${revision} did not answer within ${config.timeoutMs} ms\n`);
    }, config.timeoutMs);

    upstream.on('response', (up) => {
      const status = up.statusCode ?? 502;
      const outHeaders = backwardHeaders(up.headers, revision, mintedCookie);
      res.writeHead(status, outHeaders);
      up.pipe(res);
      up.on('end', () => finish(status, status >= 500 ? 'error' : 'ok'));
      up.on('error', () => fail(502, 'reset', 'upstream reset\n'));
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (done) return;
      const outcome: RequestOutcome = error.code === 'ECONNRESET' ? 'reset' : 'error';
      fail(502, outcome, `${service} ${revision} failed: ${error.code ?? error.message}\n`);
    });
    res.on('close', () => {
      if (!done) {
        // The client went away before the answer: not the revision's fault.
        upstream.destroy();
        finish(499, 'ok');
      }
    });
    if (hasBody(req)) req.pipe(upstream);
    else {
      // No body to stream: send the request now rather than a tick later when `req` ends.
      upstream.end();
      req.resume();
    }
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function pick(pool: RevisionPool | undefined): Endpoint | null {
  if (pool === undefined || pool.endpoints.length === 0) return null;
  const endpoint = pool.endpoints[pool.next % pool.endpoints.length] ?? null;
  pool.next = (pool.next + 1) % pool.endpoints.length;
  return endpoint;
}

function forwardHeaders(
  incoming: IncomingHttpHeaders,
  key: string,
  remote: string | undefined,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers[KEY_HEADER] = key;
  const prior = incoming['x-forwarded-for'];
  headers['x-forwarded-for'] =
    typeof prior === 'string' && prior.length > 0 ? `${prior}, ${remote ?? ''}` : (remote ?? '');
  return headers;
}

function backwardHeaders(
  incoming: IncomingHttpHeaders,
  revision: string,
  mintedCookie: string | null,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers[REVISION_HEADER] = revision;
  if (mintedCookie !== null) {
    const prior = headers['set-cookie'];
    headers['set-cookie'] = prior === undefined ? [mintedCookie] : [...[prior].flat(), mintedCookie];
  }
  return headers;
}

function listen(server: Server, port: number, host: string, service: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === 'EADDRINUSE'
          ? new AugurError('PORT_IN_USE', `port ${port} of service ${service} is already in use on ${host}`)
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
