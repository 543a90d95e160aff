/**
 * Reads Application and Release documents from YAML files and resolves them into one
 * `DeploymentConfiguration`, or returns every issue found across all files at once.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseAllDocuments, isScalar } from 'yaml';
import { err, ok, type Result } from '../core/result.js';
import {
  asRecord,
  asString,
  checkApplication,
  checkRelease,
  viewOfConfig,
  viewOfDocument,
  type ApplicationView,
  type DeclaredRevision,
} from './cross-checks.js';
import { duplicateKeys } from './duplicate-keys.js';
import { compareIssues, type ConfigIssue } from './issues.js';
import { probePorts, type PortTarget } from './ports.js';
import { SourceDocument } from './positions.js';
import { resolveApplication, resolveRelease, withDeclaredRevisions } from './resolve.js';
import { applicationDocument, KINDS, releaseDocument, type ReleaseDocument } from './schema.js';
import { didYouMean } from './suggest.js';
import type { ApplicationConfig, DeploymentConfiguration } from './types.js';
import { validateDocument } from './validate.js';

export interface LoadOptions {
  /** Directory that file names and relative paths in commands resolve from. Default: `process.cwd()`. */
  readonly cwd?: string;
  /**
   * An application loaded earlier (e.g. by a running server), used when the files hold only
   * Releases. An Application in the files takes precedence.
   */
  readonly application?: ApplicationConfig;
  /** Also report service ports that cannot be bound on 127.0.0.1 (ports of an Application in the files). */
  readonly checkPorts?: boolean;
}

interface ParsedDocument {
  readonly source: SourceDocument;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly kind: (typeof KINDS)[number];
}

interface ParsedFiles {
  readonly documents: ParsedDocument[];
  readonly issues: ConfigIssue[];
  /** Some document could not be parsed: it might have been the Application. */
  incomplete: boolean;
}

async function parseFile(file: string, label: string, into: ParsedFiles): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    into.issues.push({
      file,
      line: 1,
      column: 1,
      path: [],
      code: 'file_unreadable',
      message: `cannot read the file (${reason})`,
    });
    into.incomplete = true;
    return;
  }
  const lineCounter = new LineCounter();
  // Duplicate keys are found by duplicateKeys, at their paths, without stopping the document's checks.
  for (const doc of parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false })) {
    const source = new SourceDocument(file, doc, lineCounter, label);
    into.issues.push(...duplicateKeys(source));
    if (doc.errors.length > 0) {
      // The rest of a document that does not parse would only produce confusing follow-on issues.
      for (const error of doc.errors) {
        into.issues.push({
          file,
          ...source.positionOfOffset(error.pos[0]),
          path: [],
          code: 'yaml_syntax',
          message: error.message,
        });
      }
      into.incomplete = true;
      continue;
    }
    // `---` at the end of a file leaves an empty document: nothing to check.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    let data: unknown;
    try {
      data = doc.toJS();
    } catch (error) {
      // e.g. an alias bomb exceeding the alias limit
      into.issues.push(
        source.issue([], 'yaml_syntax', error instanceof Error ? error.message : String(error)),
      );
      into.incomplete = true;
      continue;
    }
    const raw = asRecord(data);
    if (raw === undefined) {
      into.issues.push(
        source.issue(
          [],
          'not_a_mapping',
          'a document must be a mapping with apiVersion, kind, metadata, spec',
        ),
      );
      continue;
    }
    const kind = raw['kind'];
    if (kind === undefined) {
      into.issues.push(source.issue(['kind'], 'missing_key', `"kind" is required: ${KINDS.join(' or ')}`));
    } else if (kind === 'Application' || kind === 'Release') {
      into.documents.push({ source, raw, kind });
    } else {
      const text = typeof kind === 'string' ? `"${kind}"${didYouMean(kind, KINDS)}` : 'not a string';
      into.issues.push(
        source.issue(['kind'], 'unknown_kind', `unknown kind ${text}; expected ${KINDS.join(' or ')}`),
      );
    }
  }
}

function portTargets(app: ParsedDocument): PortTarget[] {
  const services = asRecord(asRecord(app.raw['spec'])?.['services']) ?? {};
  const seen = new Set<number>();
  const targets: PortTarget[] = [];
  for (const [service, value] of Object.entries(services)) {
    const port = asRecord(value)?.['port'];
    // Invalid and duplicate ports are reported already; probing them would only repeat it.
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535 || seen.has(port))
      continue;
    seen.add(port);
    const portPath = ['spec', 'services', service, 'port'];
    targets.push({
      service,
      port,
      file: app.source.file,
      path: portPath,
      position: () => app.source.position(portPath),
    });
  }
  return targets;
}

function missingApplication(files: readonly string[], cwd: string, releases: ParsedDocument[]): ConfigIssue {
  const message =
    'no Application found: give the application file too (e.g. augur validate augur.yaml release.yaml)';
  const anchor = releases[0];
  if (anchor !== undefined) return anchor.source.issue(['kind'], 'missing_application', message);
  const file = files[0] === undefined ? '' : path.resolve(cwd, files[0]);
  return { file, line: 1, column: 1, path: [], code: 'missing_application', message };
}

/** Validates every Application; the first one is the application, the others are errors. */
function checkApplications(
  apps: readonly ParsedDocument[],
  cwd: string,
  issues: ConfigIssue[],
): ApplicationConfig | undefined {
  const [first, ...extras] = apps;
  for (const extra of extras) {
    const message = `only one Application may be given; the first is at ${first?.source.where() ?? '?'}`;
    issues.push(extra.source.issue(['kind'], 'multiple_applications', message));
  }
  let resolved: ApplicationConfig | undefined;
  for (const doc of apps) {
    const result = validateDocument(applicationDocument, doc.raw, doc.source);
    issues.push(...checkApplication(doc.raw, doc.source));
    if (!result.ok) issues.push(...result.error);
    else if (doc === first) resolved = resolveApplication(result.value, doc.source.file, cwd);
  }
  return resolved;
}

interface ValidRelease {
  readonly doc: ReleaseDocument;
  readonly file: string;
}

function checkReleases(
  releases: readonly ParsedDocument[],
  app: ApplicationView | undefined,
  issues: ConfigIssue[],
): ValidRelease[] {
  const declared = new Map<string, DeclaredRevision>();
  const byName = new Map<string, ParsedDocument>();
  const valid: ValidRelease[] = [];
  for (const doc of releases) {
    const result = validateDocument(releaseDocument, doc.raw, doc.source);
    issues.push(...checkRelease(doc.raw, doc.source, app, declared));
    if (result.ok) valid.push({ doc: result.value, file: doc.source.file });
    else issues.push(...result.error);

    const name = asString(asRecord(doc.raw['metadata'])?.['name']);
    if (name === undefined) continue;
    const earlier = byName.get(name);
    if (earlier === undefined) byName.set(name, doc);
    else {
      const message = `release "${name}" is already declared at ${earlier.source.where(['metadata', 'name'])}`;
      issues.push(doc.source.issue(['metadata', 'name'], 'duplicate_release', message));
    }
  }
  return valid;
}

export async function loadConfiguration(
  files: readonly string[],
  options: LoadOptions = {},
): Promise<Result<DeploymentConfiguration, ConfigIssue[]>> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const parsed: ParsedFiles = { documents: [], issues: [], incomplete: false };
  for (const file of files) {
    const absolute = path.resolve(cwd, file);
    await parseFile(absolute, path.relative(cwd, absolute) || absolute, parsed);
  }
  const { documents, issues } = parsed;
  const apps = documents.filter((d) => d.kind === 'Application');
  const releases = documents.filter((d) => d.kind === 'Release');

  const fromFiles = checkApplications(apps, cwd, issues);
  const appDoc = apps[0];
  let view: ApplicationView | undefined;
  if (appDoc !== undefined) view = viewOfDocument(appDoc.raw);
  else if (options.application !== undefined) view = viewOfConfig(options.application);
  // When a document did not parse, it may have been the Application: do not claim it is missing.
  else if (!parsed.incomplete) issues.push(missingApplication(files, cwd, releases));

  const valid = checkReleases(releases, view, issues);
  if (options.checkPorts === true && appDoc !== undefined) {
    issues.push(...(await probePorts(portTargets(appDoc))));
  }

  const base = appDoc === undefined ? options.application : fromFiles;
  if (issues.length > 0 || base === undefined) return err(issues.sort(compareIssues));
  const application = withDeclaredRevisions(
    base,
    valid.map((r) => r.doc),
    cwd,
  );
  return ok({ application, releases: valid.map((r) => resolveRelease(r.doc, r.file)) });
}
