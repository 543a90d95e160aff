/**
 * Checks that relate one value to another (a call to a service that must exist, a stable revision
 * that must be declared, a release for a known application…).
 *
 * They read the raw document, not the schema's output, so that they run even when the document
 * also has shape errors: a user fixing a file sees every problem in one pass. Each check therefore
 * looks only at values of the expected type and leaves wrongly typed ones to the schema.
 */
import type { ApplicationConfig } from './types.js';
import type { ConfigIssue } from './issues.js';
import type { SourceDocument } from './positions.js';
import { isName, isRevisionName, NAME_RULE } from './schema.js';
import { didYouMean } from './suggest.js';

type Raw = Readonly<Record<string, unknown>>;

export const asRecord = (value: unknown): Raw | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Raw) : undefined;
const asArray = (value: unknown): readonly unknown[] | undefined =>
  Array.isArray(value) ? value : undefined;
export const asString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** What a release needs to know of its application, from a raw document or an already-loaded one. */
export interface ApplicationView {
  readonly name: string | undefined;
  /** For each service: its stable revision and, per revision, its definition (see `definitionOf`). */
  readonly services: ReadonlyMap<
    string,
    { readonly stable?: string; readonly revisions: ReadonlyMap<string, string> }
  >;
}

/** Two declarations of one revision agree when command and environment do. */
export const definitionOf = (command: unknown, env: unknown): string => JSON.stringify([command, env ?? {}]);

export function viewOfDocument(raw: Raw): ApplicationView {
  const services = new Map<string, { stable?: string; revisions: ReadonlyMap<string, string> }>();
  const spec = asRecord(raw['spec']);
  for (const [name, value] of Object.entries(asRecord(spec?.['services']) ?? {})) {
    const service = asRecord(value);
    const stable = asString(service?.['stable']);
    const revisions = new Map<string, string>();
    for (const [name, value] of Object.entries(asRecord(service?.['revisions']) ?? {})) {
      const revision = asRecord(value);
      revisions.set(name, definitionOf(revision?.['command'], revision?.['env']));
    }
    services.set(name, stable === undefined ? { revisions } : { stable, revisions });
  }
  return { name: asString(asRecord(raw['metadata'])?.['name']), services };
}

export function viewOfConfig(app: ApplicationConfig): ApplicationView {
  const services = new Map<string, { stable: string; revisions: ReadonlyMap<string, string> }>();
  for (const service of Object.values(app.services)) {
    const revisions = new Map(
      Object.values(service.revisions).map((r) => [r.name, definitionOf(r.command, r.env)]),
    );
    services.set(service.name, { stable: service.stable, revisions });
  }
  return { name: app.name, services };
}

const list = (names: Iterable<string>): string => [...names].join(', ') || 'none';

interface Edge {
  readonly to: string;
  readonly index: number;
}

/** Each back edge found by a depth-first search closes one cycle; reporting them all breaks all cycles. */
function findCycles(
  graph: ReadonlyMap<string, readonly Edge[]>,
): { from: string; edge: Edge; cycle: string[] }[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: { from: string; edge: Edge; cycle: string[] }[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const edge of graph.get(node) ?? []) {
      const seen = state.get(edge.to);
      if (seen === 'open') {
        found.push({ from: node, edge, cycle: [...stack.slice(stack.indexOf(edge.to)), edge.to] });
      } else if (seen === undefined) {
        visit(edge.to);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

export function checkApplication(raw: Raw, source: SourceDocument): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const spec = asRecord(raw['spec']);
  const services = asRecord(spec?.['services']);
  if (spec === undefined || services === undefined) return issues;
  const names = Object.keys(services);
  const at = (...path: (string | number)[]): (string | number)[] => ['spec', ...path];

  const entrypoint = asString(spec['entrypoint']);
  if (entrypoint !== undefined && !names.includes(entrypoint)) {
    issues.push(
      source.issue(
        at('entrypoint'),
        'unknown_service',
        `entrypoint "${entrypoint}" is not a service${didYouMean(entrypoint, names)}; services: ${list(names)}`,
      ),
    );
  }

  const graph = new Map<string, Edge[]>();
  const ports = new Map<number, string>();
  for (const [name, value] of Object.entries(services)) {
    const service = asRecord(value);
    if (!isName(name)) {
      issues.push(
        source.issue(at('services', name), 'invalid_name', `service names use ${NAME_RULE}`, 'key'),
      );
    }
    if (service === undefined) continue;

    const revisions = asRecord(service['revisions']);
    for (const revision of Object.keys(revisions ?? {})) {
      if (!isRevisionName(revision)) {
        const message = `revision names use ${NAME_RULE} or "."`;
        issues.push(
          source.issue(at('services', name, 'revisions', revision), 'invalid_name', message, 'key'),
        );
      }
    }
    const stable = asString(service['stable']);
    if (stable !== undefined && revisions !== undefined && !Object.hasOwn(revisions, stable)) {
      const declared = Object.keys(revisions);
      issues.push(
        source.issue(
          at('services', name, 'stable'),
          'unknown_revision',
          `stable revision "${stable}" is not among the revisions of ${name}${didYouMean(stable, declared)}; revisions: ${list(declared)}`,
        ),
      );
    }

    const port = service['port'];
    if (typeof port === 'number' && Number.isInteger(port)) {
      const owner = ports.get(port);
      if (owner === undefined) ports.set(port, name);
      else {
        const message = `port ${port} is already the port of service ${owner}: each service needs its own`;
        issues.push(source.issue(at('services', name, 'port'), 'duplicate_port', message));
      }
    }

    const edges: Edge[] = [];
    (asArray(service['calls']) ?? []).forEach((call, index) => {
      const callee = asString(asRecord(call)?.['service']);
      if (callee === undefined) return;
      if (names.includes(callee)) edges.push({ to: callee, index });
      else {
        issues.push(
          source.issue(
            at('services', name, 'calls', index, 'service'),
            'unknown_service',
            `${name} calls "${callee}", which is not a service${didYouMean(callee, names)}`,
          ),
        );
      }
    });
    graph.set(name, edges);
  }

  for (const { from, edge, cycle } of findCycles(graph)) {
    issues.push(
      source.issue(
        at('services', from, 'calls', edge.index, 'service'),
        'call_cycle',
        `call cycle: ${cycle.join(' → ')} (a request would never finish; the dependency model must be acyclic)`,
      ),
    );
  }
  return issues;
}

/** A revision a release declares with `command`, so that two releases cannot declare it differently. */
export interface DeclaredRevision {
  readonly definition: string;
  readonly where: string;
}

export function checkRelease(
  raw: Raw,
  source: SourceDocument,
  app: ApplicationView | undefined,
  declared: Map<string, DeclaredRevision>,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const spec = asRecord(raw['spec']);
  if (spec === undefined) return issues;

  const target = asString(spec['application']);
  if (app?.name !== undefined && target !== undefined && target !== app.name) {
    issues.push(
      source.issue(
        ['spec', 'application'],
        'application_mismatch',
        `release is for application "${target}", but the application given is "${app.name}"`,
      ),
    );
  }

  const mitigations = new Set<string>();
  (asArray(spec['mitigations']) ?? []).forEach((value, index) => {
    const name = asString(asRecord(value)?.['name']);
    if (name === undefined) return;
    if (mitigations.has(name)) {
      const message = `mitigation "${name}" is declared twice in this release`;
      issues.push(source.issue(['spec', 'mitigations', index, 'name'], 'duplicate_mitigation', message));
    }
    mitigations.add(name);
  });

  const changed = new Set<string>();
  (asArray(spec['changes']) ?? []).forEach((value, index) => {
    const change = asRecord(value);
    const name = asString(change?.['service']);
    const revision = asString(change?.['revision']);
    if (change === undefined || name === undefined) return;
    const at = (key: string): (string | number)[] => ['spec', 'changes', index, key];

    if (changed.has(name)) {
      const message = `${name} is changed twice in this release: one change per service`;
      issues.push(source.issue(at('service'), 'duplicate_change', message));
      return;
    }
    changed.add(name);
    if (app === undefined) return;
    const service = app.services.get(name);
    if (service === undefined) {
      const names = [...app.services.keys()];
      const message = `"${name}" is not a service of the application${didYouMean(name, names)}; services: ${list(names)}`;
      issues.push(source.issue(at('service'), 'unknown_service', message));
      return;
    }
    if (revision === undefined) return;

    const declares = change['command'] !== undefined;
    const definition = definitionOf(change['command'], change['env']);
    const existing = service.revisions.get(revision);
    if (revision === service.stable) {
      const message = `"${revision}" is the stable revision of ${name}: a release moves a service to another revision`;
      issues.push(source.issue(at('revision'), 'change_is_stable', message));
    } else if (declares && existing !== undefined && existing !== definition) {
      // An identical declaration is fine: an application loaded earlier may hold it from this very release.
      const message = `${name} already has a different revision "${revision}" in the application: name the new one differently, or drop \`command\` to release the existing one`;
      issues.push(source.issue(at('revision'), 'revision_exists', message));
    } else if (!declares && existing === undefined) {
      const known = [...service.revisions.keys()];
      const message = `${name} has no revision "${revision}"${didYouMean(revision, known)}; revisions: ${list(known)}; a new revision needs \`command\``;
      issues.push(source.issue(at('revision'), 'unknown_revision', message));
    } else if (declares) {
      const key = `${name}/${revision}`;
      const earlier = declared.get(key);
      if (earlier === undefined) declared.set(key, { definition, where: source.where(at('revision')) });
      else if (earlier.definition !== definition) {
        const message = `revision "${revision}" of ${name} is declared differently at ${earlier.where}`;
        issues.push(source.issue(at('revision'), 'revision_conflict', message));
      }
    }
  });
  return issues;
}
