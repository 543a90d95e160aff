/**
 * From validated documents to the `DeploymentConfiguration` everything downstream reads: the
 * defaults that depend on where Augur runs, and the revisions releases declare merged into the
 * application.
 */
import path from 'node:path';
import type { ApplicationDocument, ReleaseDocument } from './schema.js';
import type {
  ApplicationConfig,
  LimitsConfig,
  MitigationConfig,
  ReleaseConfig,
  RevisionConfig,
  ServiceConfig,
} from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function limitsOf(raw: {
  latencyP99Ms?: number | undefined;
  errorRate?: number | undefined;
  cpu?: number | undefined;
}): LimitsConfig {
  const limits: Mutable<LimitsConfig> = {};
  if (raw.latencyP99Ms !== undefined) limits.latencyP99Ms = raw.latencyP99Ms;
  if (raw.errorRate !== undefined) limits.errorRate = raw.errorRate;
  if (raw.cpu !== undefined) limits.cpu = raw.cpu;
  return limits;
}

/**
 * `cwd` is the directory Augur was started from (or `options.cwd`), not the file's directory:
 * commands and backup paths in the examples (`examples/shop/cart.js`) are written relative to the
 * project root, where `augur` is run.
 */
export function resolveApplication(doc: ApplicationDocument, source: string, cwd: string): ApplicationConfig {
  const services: Record<string, ServiceConfig> = {};
  for (const [name, s] of Object.entries(doc.spec.services)) {
    const revisions: Record<string, RevisionConfig> = {};
    for (const [revision, r] of Object.entries(s.revisions)) {
      revisions[revision] = { name: revision, command: r.command, env: r.env, cwd };
    }
    services[name] = {
      name,
      port: s.port,
      stable: s.stable,
      revisions,
      resources: s.resources,
      policies: s.policies,
      calls: s.calls,
      limits: limitsOf(s.limits),
      healthPath: s.healthPath,
      data: Object.fromEntries(Object.entries(s.data).map(([name, file]) => [name, path.resolve(cwd, file)])),
    };
  }
  const { metrics } = doc.spec;
  return {
    name: doc.metadata.name,
    entrypoint: doc.spec.entrypoint,
    services,
    router: { kind: doc.spec.router.kind },
    metrics: metrics.url === undefined ? { kind: metrics.kind } : { kind: metrics.kind, url: metrics.url },
    store: { url: absoluteStoreUrl(doc.spec.store.url, cwd) },
    stateDir: path.resolve(cwd, doc.spec.stateDir ?? '.augur'),
    source,
  };
}

function resolveMitigation(m: ReleaseDocument['spec']['mitigations'][number]): MitigationConfig {
  const out: Mutable<MitigationConfig> = { name: m.name, restore: m.restore };
  // The schema guarantees exactly one alternative per object; take the one present.
  const backup = m.backup;
  if (backup?.sqlite !== undefined) out.backup = { sqlite: backup.sqlite };
  else if (backup?.postgres !== undefined) out.backup = { postgres: backup.postgres };
  else if (backup?.command !== undefined) out.backup = { command: backup.command };
  const check = m.check;
  if (check?.command !== undefined) out.check = { command: check.command };
  else if (check?.http !== undefined) out.check = { http: check.http };
  return out;
}

export function resolveRelease(doc: ReleaseDocument, source: string): ReleaseConfig {
  const { spec } = doc;
  const intervalMs = spec.monitoring.interval ?? 10_000;
  return {
    name: doc.metadata.name,
    application: spec.application,
    changes: spec.changes.map((c) => ({ service: c.service, revision: c.revision })),
    tiers: spec.tiers,
    bake: { minDurationMs: spec.bake.minDuration ?? 30_000, minRequests: spec.bake.minRequests },
    // Unset, the faster pace is 1 s, or the normal one if that is already faster.
    monitoring: {
      intervalMs,
      warningIntervalMs: spec.monitoring.warningInterval ?? Math.min(1000, intervalMs),
    },
    risk: spec.risk,
    alpha: spec.alpha,
    tolerance: spec.tolerance,
    rollback: spec.rollback,
    mitigations: spec.mitigations.map(resolveMitigation),
    source,
  };
}

/** The application with every revision that the releases declare (`command`) added to its service. */
export function withDeclaredRevisions(
  app: ApplicationConfig,
  releases: readonly ReleaseDocument[],
  cwd: string,
): ApplicationConfig {
  const services: Record<string, ServiceConfig> = { ...app.services };
  for (const release of releases) {
    for (const change of release.spec.changes) {
      const service = services[change.service];
      if (service === undefined || change.command === undefined) continue;
      const revision: RevisionConfig = {
        name: change.revision,
        command: change.command,
        env: change.env ?? {},
        cwd,
      };
      services[change.service] = {
        ...service,
        revisions: { ...service.revisions, [change.revision]: revision },
      };
    }
  }
  return { ...app, services };
}

/** A relative SQLite path resolves from the working directory, like every other path in the file. */
function absoluteStoreUrl(url: string, cwd: string): string {
  if (!url.startsWith('sqlite:')) return url;
  const file = url.slice('sqlite:'.length);
  return file === ':memory:' || path.isAbsolute(file) ? url : `sqlite:${path.resolve(cwd, file)}`;
}
