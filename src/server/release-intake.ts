import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { definitionOf } from '../config/cross-checks.js';
import { loadConfiguration } from '../config/index.js';
import type { ConfigIssue } from '../config/issues.js';
import { formatPath } from '../config/issues.js';
import type { ApplicationConfig, MitigationConfig, ReleaseConfig } from '../config/types.js';
import { own } from '../core/own.js';
import { HttpError, isObject, parseJson } from './http.js';

/** What the server's own configuration files allow a posted release to use. */
export interface IntakePolicy {
  /** The application the server runs, with every revision its files declare. */
  readonly application: ApplicationConfig;
  /** Releases declared in the server's files: the only source of mitigations (they run commands). */
  readonly releases: readonly ReleaseConfig[];
}

/** The label that replaces the temporary file's name in validation issues. */
export const BODY_LABEL = 'request body';

/**
 * Turns a posted Release (JSON, or YAML with a YAML content type) into a validated ReleaseConfig.
 * Validation is the configuration loader's own, against the running application. A posted release
 * can only name what the server's files already declare: a change with `command` must repeat a
 * revision of those files exactly, and a mitigation with a backup or check must be one of theirs —
 * the API never starts a command line that did not come from the server's files.
 */
export async function intakeRelease(
  body: string,
  contentType: string | undefined,
  policy: IntakePolicy,
): Promise<ReleaseConfig> {
  const yaml = contentType !== undefined && /\byaml\b/i.test(contentType);
  if (!yaml && !isObject(parseJson(body))) throw badRequest('the body must be one Release object');
  const raw = singleDocument(body);
  if (raw !== null) {
    if (raw['kind'] === 'Application') {
      throw badRequest("only a Release may be posted: the application comes from the server's files");
    }
    refuseForeignCommands(raw, policy.application);
  }

  const release = await validate(body, yaml ? 'yaml' : 'json', policy.application);
  for (const change of release.changes) {
    if (declaredRevision(policy.application, change.service, change.revision) === undefined) {
      throw forbidden(`revision ${change.service}/${change.revision} is not in the server's files`);
    }
  }
  const known = new Set(policy.releases.flatMap((r) => r.mitigations.map(mitigationKey)));
  for (const mitigation of release.mitigations) {
    const acts = mitigation.backup !== undefined || mitigation.check !== undefined;
    if (acts && !known.has(mitigationKey(mitigation))) {
      throw forbidden(
        `mitigation "${mitigation.name}" is not declared identically in a Release file the server was started with: ` +
          'mitigations run commands and restore data, so they must come from the server’s own files',
      );
    }
  }
  return { ...release, source: 'api' };
}

/** The release's name, when the body is well-formed enough to tell; before any validation. */
export function postedName(body: string): string | undefined {
  try {
    const data: unknown = parseAllDocuments(body)[0]?.toJS();
    const metadata = isObject(data) ? data['metadata'] : undefined;
    const name = isObject(metadata) ? metadata['name'] : undefined;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The one document of the body as plain data; null when it does not parse (validation reports it). */
function singleDocument(body: string): Record<string, unknown> | null {
  const docs = parseAllDocuments(body).filter((d) => d.contents !== null);
  if (docs.length > 1)
    throw badRequest(`the body holds ${docs.length} documents: post one Release at a time`);
  const doc = docs[0];
  if (doc === undefined) throw badRequest('the body is empty: post one Release');
  if (doc.errors.length > 0) return null;
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // The YAML parses but cannot become data: most often aliases that would expand beyond
    // reason (a "billion laughs" body), which the yaml library refuses to resolve.
    throw badRequest(`the body cannot be read as a Release: ${(error as Error).message}`);
  }
  if (!isObject(data)) throw badRequest('the body must be one Release object');
  return data;
}

function refuseForeignCommands(raw: Record<string, unknown>, app: ApplicationConfig): void {
  const spec = raw['spec'];
  const changes = isObject(spec) && Array.isArray(spec['changes']) ? (spec['changes'] as unknown[]) : [];
  for (const change of changes) {
    if (!isObject(change) || change['command'] === undefined) continue;
    const service = String(change['service']);
    const name = String(change['revision']);
    const existing = declaredRevision(app, service, name);
    const same =
      existing !== undefined &&
      definitionOf(existing.command, existing.env) === definitionOf(change['command'], change['env']);
    if (!same) {
      throw forbidden(
        `revision ${service}/${name} declares a command that is not in the server's configuration files: ` +
          'declare the revision there (and restart the server), or drop `command` to release a declared one',
      );
    }
  }
}

async function validate(body: string, ext: string, app: ApplicationConfig): Promise<ReleaseConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'augur-release-'));
  try {
    const file = join(dir, `release.${ext}`);
    await writeFile(file, body, { mode: 0o600 });
    const loaded = await loadConfiguration([file], { application: app, cwd: dir });
    if (!loaded.ok) throw invalid(loaded.error);
    const [release, ...more] = loaded.value.releases;
    if (release === undefined || more.length > 0) throw badRequest('post exactly one Release');
    return release;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function invalid(issues: readonly ConfigIssue[]): HttpError {
  const shown = issues.map((i) => ({ ...i, file: BODY_LABEL }));
  const first = shown[0];
  const where = first !== undefined && first.path.length > 0 ? `${formatPath(first.path)}: ` : '';
  const more = shown.length > 1 ? ` (and ${shown.length - 1} more)` : '';
  return new HttpError(
    400,
    'CONFIG_INVALID',
    `the release is invalid: ${where}${first?.message ?? 'unknown problem'}${more}`,
    { issues: shown },
  );
}

/** A revision of the server's files; nothing for names only inherited members answer to. */
function declaredRevision(
  app: ApplicationConfig,
  service: string,
  revision: string,
): ApplicationConfig['services'][string]['revisions'][string] | undefined {
  const declared = own(app.services, service);
  return declared === undefined ? undefined : own(declared.revisions, revision);
}

function mitigationKey(m: MitigationConfig): string {
  return JSON.stringify([m.name, m.backup ?? null, m.check ?? null, m.restore]);
}

const badRequest = (message: string): HttpError => new HttpError(400, 'BAD_REQUEST', message);
const forbidden = (message: string): HttpError => new HttpError(403, 'COMMAND_NOT_ALLOWED', message);
