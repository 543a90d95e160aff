import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { AugurError } from '../../core/errors.js';
import type { RequestObserver } from '../../metrics/observer.js';
import { bucketOf, isCanary } from '../buckets.js';
import type { Endpoint, TrafficRouter, TrafficSplit } from '../router.js';
import { validateSplit } from '../router.js';
import { ClientConnection } from './client-connection.js';
import { Deadlines } from './deadlines.js';
import type { Route, ServiceContext } from './exchange.js';
import { KEY_HEADER, keyCookie, requestKey } from './request-key.js';
import type { RecordedRequest, SamplingOptions } from './request-sampler.js';
import { RequestSampler } from './request-sampler.js';
import { endpointKey, SWEEP_MS, UpstreamPool } from './upstream-pool.js';
import { fieldValue } from './wire/fields.js';
import type { RequestHead } from './wire/request-head.js';

export { REVISION_HEADER } from './rewrite.js';
export type { RecordedRequest, SamplingOptions } from './request-sampler.js';

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
  /** Records a bounded sample of each service's requests (`takeSamples`); on by default. */
  readonly sampling?: SamplingOptions | false;
}

interface Replica {
  readonly endpoint: Endpoint;
  readonly key: string;
}

interface RevisionPool {
  replicas: readonly Replica[];
  next: number;
}

/** A service's routing state: its split, its revisions' replicas, its upstream connections. */
class ServiceRoutes implements ServiceContext {
  readonly name: string;
  readonly timeoutMs: number;
  readonly observer: RequestObserver;
  readonly upstreams = new UpstreamPool();
  readonly deadlines: Deadlines;
  readonly config: RoutedService;
  split: TrafficSplit;
  readonly pools = new Map<string, RevisionPool>();
  server: Server | null = null;
  readonly connections = new Set<ClientConnection>();
  readonly sampler: RequestSampler | null;
  private sweeper: NodeJS.Timeout | null = null;
  ticks = 0;

  constructor(config: RoutedService, observer: RequestObserver, sampling: SamplingOptions | false) {
    this.config = config;
    this.sampler = sampling === false ? null : new RequestSampler(sampling);
    this.name = config.name;
    this.timeoutMs = config.timeoutMs;
    this.deadlines = new Deadlines(config.timeoutMs);
    this.observer = observer;
    this.split = { service: config.name, stable: config.stable, canary: null, canaryWeight: 0 };
  }

  route(head: RequestHead, remote: string): Route {
    const { split, config } = this;
    const header = fieldValue(head.fields, KEY_HEADER);
    const cookies =
      header === undefined || header === '' ? fieldValue(head.fields, 'cookie', '; ') : undefined;
    let key = requestKey(header, cookies);
    let cookie: string | null = null;
    if (key === null) {
      if (config.entrypoint) {
        key = randomBytes(9).toString('base64url');
        cookie = keyCookie(key);
      } else {
        key = remote;
      }
    }
    const revision =
      split.canary !== null && isCanary(bucketOf(config.name, key), split.canaryWeight)
        ? split.canary
        : split.stable;
    const replica = pick(this.pools.get(revision));
    return { revision, key, cookie, endpoint: replica?.endpoint ?? null, endpointKey: replica?.key ?? '' };
  }

  /** Starts expiring idle client and upstream connections (unref'd: it keeps nothing alive). */
  startSweeping(): void {
    this.sweeper = setInterval(() => {
      this.ticks++;
      this.upstreams.sweep();
      for (const connection of this.connections) connection.sweep(this.ticks);
    }, SWEEP_MS).unref();
  }

  stopSweeping(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  setEndpoints(revision: string, endpoints: readonly Endpoint[]): void {
    const replicas = endpoints.map((endpoint) => ({ endpoint: { ...endpoint }, key: endpointKey(endpoint) }));
    const pool = this.pools.get(revision);
    if (pool === undefined) this.pools.set(revision, { replicas, next: 0 });
    else pool.replicas = replicas;
    const listed = new Set<string>();
    for (const p of this.pools.values()) for (const r of p.replicas) listed.add(r.key);
    this.upstreams.retain(listed);
  }
}

/**
 * The embedded data plane: a reverse proxy per service on raw sockets with its own HTTP/1.1
 * framing (node:http's per-message cost on both sides was most of the router's latency). It splits
 * traffic by sticky buckets, balances across replicas over keep-alive pools, enforces the
 * service's timeout, and reports every request to the metrics observer.
 */
export class BuiltinRouter implements TrafficRouter {
  readonly kind = 'builtin';
  private readonly services = new Map<string, ServiceRoutes>();
  private readonly host: string;

  constructor(options: BuiltinRouterOptions) {
    this.host = options.host ?? '127.0.0.1';
    const sampling = options.sampling ?? {};
    for (const config of options.services)
      this.services.set(config.name, new ServiceRoutes(config, options.observer, sampling));
  }

  /** Opens a listener per service. Fails whole (closing what it opened) if any port is taken. */
  async start(): Promise<void> {
    try {
      for (const state of this.services.values()) {
        const server = createServer({ noDelay: true }, (socket) => {
          const connection = new ClientConnection(socket, state, (c) => state.connections.delete(c));
          state.connections.add(connection);
        });
        await listen(server, state.config.port, this.host, state.name);
        state.server = server;
        state.startSweeping();
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
    this.state(service).setEndpoints(revision, endpoints);
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

  /**
   * The requests recorded per service since the previous call (services with none left out); the
   * samples start afresh, so each call returns a uniform sample of the time since the last one.
   */
  takeSamples(): Map<string, RecordedRequest[]> {
    const out = new Map<string, RecordedRequest[]>();
    for (const state of this.services.values()) {
      const taken = state.sampler?.take() ?? [];
      if (taken.length > 0) out.set(state.name, taken);
    }
    return out;
  }

  /** The requests recorded for a service since the last `takeSamples`, left in place. */
  samples(service: string): readonly RecordedRequest[] {
    return this.state(service).sampler?.peek() ?? [];
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.services.values()].map(async (state) => {
        const server = state.server;
        state.server = null;
        state.stopSweeping();
        // Requests in flight end as 499: the client connection goes before any answer.
        for (const connection of [...state.connections]) connection.destroy();
        state.upstreams.destroyAll();
        if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }

  private state(service: string): ServiceRoutes {
    const state = this.services.get(service);
    if (state === undefined)
      throw new AugurError('UNKNOWN_SERVICE', `the router has no service "${service}"`);
    return state;
  }
}

function pick(pool: RevisionPool | undefined): Replica | null {
  if (pool === undefined || pool.replicas.length === 0) return null;
  const replica = pool.replicas[pool.next % pool.replicas.length] ?? null;
  pool.next = (pool.next + 1) % pool.replicas.length;
  return replica;
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
