/**
 * What the sandbox runs for a release: the changed services with their stable and proposed
 * revisions, the stable revisions of everything they call (transitively), and — when a service's
 * traffic must first be captured through the entrypoint — everything the entrypoint calls.
 */
import { AugurError } from '../core/errors.js';
import type { ApplicationConfig, ReleaseConfig, RevisionConfig, ServiceConfig } from '../config/types.js';

/** One changed service: the revision it runs now and the one the release proposes. */
export interface Candidate {
  readonly service: string;
  readonly stable: string;
  readonly proposed: string;
}

export interface SandboxPlan {
  readonly candidates: readonly Candidate[];
  /** Every service the sandbox runs, with the revision its listener serves by default. */
  readonly stables: ReadonlyMap<string, string>;
  /** The revisions started per service (the stable first). */
  readonly revisions: ReadonlyMap<string, readonly string[]>;
}

/** `roots` and every service they call, directly or not. */
export function calleeClosure(app: ApplicationConfig, roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const service = app.services[name];
    if (service === undefined) return;
    seen.add(name);
    for (const call of service.calls) visit(call.service);
  };
  for (const root of roots) visit(root);
  return seen;
}

/**
 * @param stableOf the revision a service runs now (a promoted one, or the configured `stable`)
 * @param viaEntrypoint services whose traffic is captured through the entrypoint: the entrypoint
 *   and everything it calls then run as well
 */
export function planSandbox(
  app: ApplicationConfig,
  release: ReleaseConfig,
  stableOf: (service: string) => string,
  viaEntrypoint: boolean,
): SandboxPlan {
  const candidates: Candidate[] = [];
  for (const change of release.changes) {
    const service = app.services[change.service];
    if (service === undefined)
      throw new AugurError(
        'UNKNOWN_SERVICE',
        `release ${release.name} changes an unknown service "${change.service}"`,
      );
    if (service.revisions[change.revision] === undefined)
      throw new AugurError(
        'UNKNOWN_REVISION',
        `service ${change.service} has no revision "${change.revision}" (known: ${Object.keys(service.revisions).join(', ')})`,
      );
    candidates.push({ service: change.service, stable: stableOf(change.service), proposed: change.revision });
  }
  const roots = candidates.map((c) => c.service);
  const running = calleeClosure(app, viaEntrypoint ? [...roots, app.entrypoint] : roots);
  const stables = new Map<string, string>();
  const revisions = new Map<string, string[]>();
  for (const name of running) {
    const stable = stableOf(name);
    stables.set(name, stable);
    revisions.set(name, [stable]);
  }
  for (const c of candidates) {
    const list = revisions.get(c.service) ?? [];
    if (!list.includes(c.proposed)) list.push(c.proposed);
  }
  return { candidates, stables, revisions };
}

/**
 * The application the sandbox's data plane runs: only the planned services and revisions, its own
 * state directory and store, each revision's environment with `envOf` applied (data copies).
 */
export function sandboxApplication(
  app: ApplicationConfig,
  plan: SandboxPlan,
  stateDir: string,
  envOf: (service: string, revision: RevisionConfig) => Readonly<Record<string, string>>,
): ApplicationConfig {
  const services: Record<string, ServiceConfig> = {};
  for (const [name, list] of plan.revisions) {
    const service = app.services[name] as ServiceConfig;
    const revisions: Record<string, RevisionConfig> = {};
    for (const revision of list) {
      const spec = service.revisions[revision] as RevisionConfig;
      revisions[revision] = { ...spec, env: envOf(name, spec) };
    }
    services[name] = { ...service, stable: plan.stables.get(name) ?? service.stable, revisions };
  }
  return {
    ...app,
    services,
    stateDir,
    store: { url: `sqlite:${stateDir}/sandbox.db` },
  };
}
