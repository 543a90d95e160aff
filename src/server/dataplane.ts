import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { AugurError } from '../core/errors.js';
import { own } from '../core/own.js';
import type { ApplicationConfig } from '../config/types.js';
import { BuiltinMetrics } from '../metrics/builtin/index.js';
import type { MetricsProvider } from '../metrics/provider.js';
import { BuiltinRouter } from '../router/builtin/builtin-router.js';
import type { Endpoint, TrafficSplit } from '../router/router.js';
import { validateSplit } from '../router/router.js';
import { stopOrphans } from '../runtime/process/orphans.js';
import { ProcessRuntime } from '../runtime/process/process-runtime.js';
import { StateLock } from '../runtime/process/state-lock.js';
import type { InstanceInfo, RuntimeEvent } from '../runtime/runtime.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { RequestCounter } from './request-counter.js';
import { calleesFirst, serviceUrls } from './service-env.js';

/** How often the router's request samples are saved. */
const SAMPLE_FLUSH_MS = 60_000;

export type DataPlaneEvent =
  | RuntimeEvent
  | { readonly type: 'listening'; readonly service: string; readonly address: Endpoint }
  | { readonly type: 'traffic'; readonly split: TrafficSplit; readonly restored: boolean }
  | { readonly type: 'metrics-error'; readonly message: string };

export interface DataPlaneOptions {
  readonly app: ApplicationConfig;
  readonly onEvent?: (event: DataPlaneEvent) => void;
  readonly clock?: Clock;
  /** Address the service listeners bind; loopback by default. */
  readonly host?: string;
  /** Test hook: replaces the configured service ports (0 = any free port). */
  readonly portOverride?: (service: string) => number;
  readonly runtime?: { readonly readyTimeoutMs?: number; readonly graceMs?: number };
}

/**
 * The embedded data plane of one application: the process runtime running its revisions, the
 * builtin router listening on each service's port, and the builtin metrics fed by the router,
 * all over one store and state directory. Traffic splits are recorded in the store before they
 * are applied, and restored on start, so no weight is ever left where nothing records it.
 */
export class DataPlane {
  readonly store: Store;
  readonly metrics: BuiltinMetrics;
  readonly router: BuiltinRouter;
  readonly runtime: ProcessRuntime;
  /** Requests per service × revision × outcome since start, for the Prometheus endpoint. */
  readonly requests: RequestCounter;
  private readonly lock: StateLock;
  private readonly app: ApplicationConfig;
  private readonly clock: Clock;
  private readonly emit: (event: DataPlaneEvent) => void;
  /** When this data plane started (its clock): the metrics it measured itself begin here. */
  readonly startedAt: number;
  private stopped = false;
  private sampleTimer: NodeJS.Timeout | undefined;
  /** Revisions promoted since the configuration was written. */
  private readonly stables = new Map<string, string>();

  private constructor(options: DataPlaneOptions, lock: StateLock, store: Store, owner: string) {
    this.app = options.app;
    this.lock = lock;
    this.store = store;
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.emit = options.onEvent ?? (() => undefined);
    const host = options.host ?? '127.0.0.1';
    this.metrics = new BuiltinMetrics({
      clock: this.clock,
      store,
      processes: { processes: () => this.runtime.processes() },
      onError: (error: Error) => this.emit({ type: 'metrics-error', message: error.message }),
    });
    this.requests = new RequestCounter(this.metrics);
    this.router = new BuiltinRouter({
      host,
      observer: this.requests,
      services: Object.values(this.app.services).map((s) => ({
        name: s.name,
        port: options.portOverride?.(s.name) ?? s.port,
        stable: s.stable,
        timeoutMs: s.policies.timeoutMs,
        entrypoint: s.name === this.app.entrypoint,
      })),
    });
    this.runtime = new ProcessRuntime({
      stateDir: this.app.stateDir,
      store,
      owner,
      sharedEnv: {},
      observer: { onRuntimeEvent: (event) => this.onRuntimeEvent(event) },
      clock: this.clock,
      ...(options.runtime?.readyTimeoutMs !== undefined
        ? { readyTimeoutMs: options.runtime.readyTimeoutMs }
        : {}),
      ...(options.runtime?.graceMs !== undefined ? { graceMs: options.runtime.graceMs } : {}),
    });
  }

  /**
   * Takes the state directory's lock, stops orphans of a previous run, opens the listeners,
   * starts every stable revision (callees first), and restores recorded canary splits.
   */
  static async start(options: DataPlaneOptions): Promise<DataPlane> {
    const app = options.app;
    const lock = new StateLock(app.stateDir);
    lock.acquire();
    let store: Store | null = null;
    let plane: DataPlane | null = null;
    try {
      store = openStore(app.store.url);
      const owner = `${process.pid}-${randomBytes(4).toString('hex')}`;
      await stopOrphans(store, app.stateDir, owner, {
        onRuntimeEvent: (event) => options.onEvent?.(event),
      });
      plane = new DataPlane(options, lock, store, owner);
      await plane.open(options.host ?? '127.0.0.1');
      return plane;
    } catch (error) {
      if (plane !== null) await plane.stop();
      else {
        await store?.close();
        lock.release();
      }
      throw error;
    }
  }

  private async open(host: string): Promise<void> {
    await this.router.start();
    const ports = new Map<string, number>();
    for (const name of Object.keys(this.app.services)) {
      const address = this.router.address(name);
      ports.set(name, address.port);
      this.emit({ type: 'listening', service: name, address });
    }
    this.runtime.setSharedEnv(serviceUrls(this.app, host, ports));
    this.metrics.start();
    // The router's request samples go to the store once a minute, for the sandbox to replay.
    this.sampleTimer = setInterval(() => void this.saveRequestSamples(), SAMPLE_FLUSH_MS).unref();
    const records = await this.store.listTraffic();
    for (const record of records) {
      const stable = record.stableRevision;
      const service = own(this.app.services, record.service);
      if (stable != null && service !== undefined && own(service.revisions, stable) !== undefined) {
        this.stables.set(record.service, stable);
      }
    }
    for (const name of calleesFirst(this.app)) {
      await this.runtime.start(this.service(name), this.stableOf(name));
    }
    for (const name of Object.keys(this.app.services)) {
      await this.router.setSplit({
        service: name,
        stable: this.stableOf(name),
        canary: null,
        canaryWeight: 0,
      });
    }
    for (const record of records) {
      const service = own(this.app.services, record.service);
      if (service === undefined || record.canaryRevision === null) continue;
      if (own(service.revisions, record.canaryRevision) === undefined) continue;
      const split: TrafficSplit = {
        service: record.service,
        stable: this.stableOf(record.service),
        canary: record.canaryRevision,
        canaryWeight: record.canaryWeight,
      };
      if (split.canaryWeight > 0) await this.runtime.start(service, record.canaryRevision);
      await this.router.setSplit(split);
      this.emit({ type: 'traffic', split, restored: true });
    }
  }

  /** The revision serving a service's non-canary traffic: configured, or promoted since. */
  stableOf(service: string): string {
    return this.stables.get(service) ?? this.service(service).stable;
  }

  /** Sends `weight` basis points of a service's traffic to `revision` (starting it if needed). */
  async setTraffic(serviceName: string, revision: string, weight: number): Promise<TrafficSplit> {
    const service = this.service(serviceName);
    if (own(service.revisions, revision) === undefined) {
      throw new AugurError(
        'UNKNOWN_REVISION',
        `service ${serviceName} has no revision "${revision}" (known: ${Object.keys(service.revisions).join(', ')})`,
      );
    }
    const stable = this.stableOf(serviceName);
    const split: TrafficSplit =
      revision === stable
        ? { service: serviceName, stable, canary: null, canaryWeight: 0 }
        : { service: serviceName, stable, canary: revision, canaryWeight: weight };
    const problem = validateSplit(split);
    if (problem !== null) throw new AugurError('SPLIT_INVALID', problem);
    if (split.canary !== null && split.canaryWeight > 0) await this.runtime.start(service, split.canary);
    await this.store.saveTraffic({
      service: serviceName,
      stableRevision: this.stables.get(serviceName) ?? null,
      canaryRevision: split.canary,
      canaryWeight: split.canaryWeight,
      updatedAt: this.clock.now(),
    });
    await this.router.setSplit(split);
    this.emit({ type: 'traffic', split, restored: false });
    return split;
  }

  /**
   * Makes `revision` the service's stable revision: all traffic moves to it (recorded first), then
   * the previous stable revision is stopped gracefully.
   */
  async promote(serviceName: string, revision: string): Promise<void> {
    const service = this.service(serviceName);
    if (own(service.revisions, revision) === undefined) {
      throw new AugurError('UNKNOWN_REVISION', `service ${serviceName} has no revision "${revision}"`);
    }
    const previous = this.stableOf(serviceName);
    if (previous === revision) return;
    await this.runtime.start(service, revision);
    await this.store.saveTraffic({
      service: serviceName,
      stableRevision: revision,
      canaryRevision: null,
      canaryWeight: 0,
      updatedAt: this.clock.now(),
    });
    this.stables.set(serviceName, revision);
    const split: TrafficSplit = { service: serviceName, stable: revision, canary: null, canaryWeight: 0 };
    await this.router.setSplit(split);
    this.emit({ type: 'traffic', split, restored: false });
    await this.runtime.stop(serviceName, previous);
  }

  /** Stops a revision that serves no traffic (neither stable nor a canary with weight). */
  async stopRevision(serviceName: string, revision: string): Promise<boolean> {
    const split = await this.router.getSplit(serviceName);
    if (revision === split.stable || (revision === split.canary && split.canaryWeight > 0)) return false;
    await this.runtime.stop(serviceName, revision);
    return true;
  }

  /** Whether a revision's processes crash in a loop (restarted too often, recently). */
  crashLooping(service: string, revision: string): boolean {
    return this.runtime.crashLooping(service, revision);
  }

  async splits(): Promise<TrafficSplit[]> {
    return Promise.all(Object.keys(this.app.services).map((name) => this.router.getSplit(name)));
  }

  instances(): InstanceInfo[] {
    return this.runtime.instances();
  }

  get application(): ApplicationConfig {
    return this.app;
  }

  get provider(): MetricsProvider {
    return this.metrics;
  }

  /** Stops listening, stops every process, flushes metrics, closes the store, releases the lock. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.sampleTimer);
    await this.router.close();
    await this.runtime.stopAll();
    await this.metrics.stop();
    await this.saveRequestSamples();
    await this.store.close();
    this.lock.release();
  }

  /** Saves the requests the router recorded since the last save; failures are reported, never thrown. */
  private async saveRequestSamples(): Promise<void> {
    for (const [service, samples] of this.router.takeSamples()) {
      try {
        await this.store.saveRequestSamples(service, samples);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.emit({
          type: 'metrics-error',
          message: `could not save request samples of ${service}: ${message}`,
        });
      }
    }
  }

  private service(name: string): ApplicationConfig['services'][string] {
    const service = own(this.app.services, name);
    if (service === undefined)
      throw new AugurError('UNKNOWN_SERVICE', `application ${this.app.name} has no service "${name}"`);
    return service;
  }

  private onRuntimeEvent(event: RuntimeEvent): void {
    if (event.type === 'ready' || event.type === 'crashed' || event.type === 'stopped') {
      void this.router.setEndpoints(
        event.service,
        event.revision,
        this.runtime.endpoints(event.service, event.revision),
      );
    }
    this.emit(event);
  }
}
