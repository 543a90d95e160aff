/**
 * The resolved configuration: Application + Releases with every default filled in.
 * Everything downstream (runtime, router, metrics, controller, simulation) reads this type only.
 */

export type CallMode = 'sequential' | 'parallel';
export type RouterKind = 'builtin' | 'haproxy' | 'nginx' | 'gateway-api';
export type MetricsKind = 'builtin' | 'prometheus';

export interface CallConfig {
  readonly service: string;
  /** Mean number of calls to `service` per request to the caller. */
  readonly perRequest: number;
  readonly mode: CallMode;
}

export interface RevisionConfig {
  readonly name: string;
  /** argv; the first element is the executable. Relative paths resolve from `cwd`. */
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /**
   * Working directory of the processes: the directory Augur loaded the configuration from
   * (`LoadOptions.cwd`, else the process's working directory), as absolute path.
   */
  readonly cwd: string;
}

export interface ResourcesConfig {
  readonly replicas: number;
  /** Requests one replica serves at once. */
  readonly concurrency: number;
  /** CPU cores per replica. */
  readonly cpu: number;
}

export interface PoliciesConfig {
  readonly timeoutMs: number;
  readonly retries: number;
}

export interface LimitsConfig {
  readonly latencyP99Ms?: number;
  readonly errorRate?: number;
  /** Utilisation of `resources.cpu`, in (0, 1]. */
  readonly cpu?: number;
}

export interface ServiceConfig {
  readonly name: string;
  /** Where callers reach the service: the router listens here. */
  readonly port: number;
  readonly stable: string;
  readonly revisions: Readonly<Record<string, RevisionConfig>>;
  readonly resources: ResourcesConfig;
  readonly policies: PoliciesConfig;
  readonly calls: readonly CallConfig[];
  readonly limits: LimitsConfig;
  /** Readiness path probed with GET. Default `/healthz`. */
  readonly healthPath: string;
  /**
   * Data files the service writes, by the environment variable that tells it where (absolute
   * paths). The runtime sets the variables for every revision (a revision's own `env` wins); the
   * sandbox points them at copies, so a prediction never writes production data.
   */
  readonly data?: Readonly<Record<string, string>>;
}

export interface ApplicationConfig {
  readonly name: string;
  readonly entrypoint: string;
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly router: { readonly kind: RouterKind };
  readonly metrics: { readonly kind: MetricsKind; readonly url?: string };
  readonly store: { readonly url: string };
  /** Absolute path of the state directory (logs, database, backups). Default `.augur` beside the cwd. */
  readonly stateDir: string;
  /** Absolute path of the file that declared the application. */
  readonly source: string;
}

export interface ChangeConfig {
  readonly service: string;
  readonly revision: string;
}

export interface MitigationConfig {
  readonly name: string;
  readonly backup?:
    { readonly sqlite: string } | { readonly postgres: string } | { readonly command: readonly string[] };
  readonly check?: { readonly command: readonly string[] } | { readonly http: string };
  readonly restore: 'auto' | 'manual';
}

export type RollbackPolicy = 'service' | 'hold' | 'all';

export interface ReleaseConfig {
  readonly name: string;
  readonly application: string;
  readonly changes: readonly ChangeConfig[];
  /** Percent of the service's traffic, strictly increasing, ending at 100, steps of 0.01. */
  readonly tiers: readonly number[];
  readonly bake: { readonly minDurationMs: number; readonly minRequests: number };
  readonly monitoring: { readonly intervalMs: number; readonly warningIntervalMs: number };
  readonly risk: { readonly low: number; readonly high: number };
  readonly alpha: number;
  /**
   * Slowdown against the stable revision the release accepts: the latency regression test counts
   * only a canary slower than (1 + latencyIncrease) × the stable. Absent (releases recorded before
   * it existed) or 0: any slowdown counts.
   */
  readonly tolerance?: { readonly latencyIncrease: number };
  /**
   * When one changed service goes RED: roll back that service only and let the others go on
   * ('service', the default), hold the others until an operator acts ('hold'), or roll back every
   * service ('all'). Absent in releases recorded before it existed: 'service'.
   */
  readonly rollback?: { readonly policy: RollbackPolicy };
  readonly mitigations: readonly MitigationConfig[];
  readonly source: string;
}

export interface DeploymentConfiguration {
  readonly application: ApplicationConfig;
  /**
   * Releases declared in the given files. Each change's revision has been merged into
   * `application.services[service].revisions` (a release may declare the revision's command/env).
   */
  readonly releases: readonly ReleaseConfig[];
}

/** Canary weights are integer basis points: 10,000 = 100%, 1 = 0.01%. */
export const FULL_WEIGHT = 10_000;

export function percentToBasisPoints(percent: number): number {
  return Math.round(percent * 100);
}

/** Where the application's revisions run (relative paths of its files resolve from here). */
export function applicationDir(app: ApplicationConfig): string {
  for (const service of Object.values(app.services))
    for (const revision of Object.values(service.revisions)) return revision.cwd;
  return process.cwd();
}
