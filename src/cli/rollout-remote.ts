import { releaseShape } from './api-shapes.js';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { YAMLError } from 'yaml';
import type { ReleaseEvent } from '../controller/core/events.js';
import { AugurError } from '../core/errors.js';
import type { ReleaseView } from '../server/release-view.js';
import type { CommandContext } from './command.js';
import { EXIT, flag, UsageError } from './command.js';
import type { ApiClient } from './client.js';
import { ApiError } from './client.js';
import { ConfigInvalidError, loadFiles } from './config-files.js';
import { outcomeExit } from './outcome.js';
import { releaseEventLine } from './release-events.js';
import { clientFor } from './remote.js';

interface ReleaseDocument {
  readonly name: string;
  readonly label: string;
  readonly body: Record<string, unknown>;
}

/** A YAML syntax error where `augur validate` puts its errors: file:line:column, then the message. */
function yamlProblem(file: string, error: YAMLError): string {
  const at = error.linePos?.[0];
  const where = at === undefined ? file : `${file}:${at.line}:${at.col}`;
  const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return `${where}  error  ${message}`;
}

/** The Release documents of the files, and the files that hold an Application. */
async function readReleases(
  files: readonly string[],
): Promise<{ releases: ReleaseDocument[]; apps: string[] }> {
  const releases: ReleaseDocument[] = [];
  const apps: string[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      problems.push(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        problems.push(...doc.errors.map((e) => yamlProblem(file, e)));
        continue;
      }
      let data: unknown;
      try {
        data = doc.toJS();
      } catch (error) {
        problems.push(`${file}: ${(error as Error).message}`);
        continue;
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) continue;
      const body = data as Record<string, unknown>;
      if (body['kind'] === 'Application') apps.push(file);
      if (body['kind'] !== 'Release') continue;
      const metadata = body['metadata'] as Record<string, unknown> | undefined;
      const name = typeof metadata?.['name'] === 'string' ? metadata['name'] : '?';
      releases.push({ name, label: `${file} (release ${name})`, body });
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems.join('\n'), problems.length);
  return { releases, apps: [...new Set(apps)] };
}

/** Submits one release; one that exists already is reported and followed if it still runs. */
async function submit(
  ctx: CommandContext,
  client: ApiClient,
  release: ReleaseDocument,
): Promise<ReleaseView> {
  try {
    const view = await client.request('POST', '/api/v1/releases', release.body, {
      label: release.label,
      shape: releaseShape,
    });
    ctx.io.err(`submitted release ${view.name} to ${client.target.url}\n`);
    return view;
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'RELEASE_EXISTS') throw error;
    const view = await client.request(
      'GET',
      `/api/v1/releases/${encodeURIComponent(release.name)}`,
      undefined,
      { shape: releaseShape },
    );
    ctx.io.err(
      view.phase === 'running'
        ? `release ${view.name} exists already and is running: following it\n`
        : `release ${view.name} already ended (${view.phase})\n`,
    );
    return view;
  }
}

/** Prints a release's events until it ends; false when interrupted first. */
async function follow(ctx: CommandContext, client: ApiClient, name: string): Promise<boolean> {
  const how = await client.follow(
    `/api/v1/releases/${encodeURIComponent(name)}/events/stream`,
    (message) => {
      const event = JSON.parse(message.data) as ReleaseEvent;
      const line = releaseEventLine(event);
      if (line !== null && !flag(ctx, 'json')) ctx.io.err(`${line}\n`);
      return event.type === 'release-ended';
    },
    { signal: ctx.signal },
  );
  return how === 'stopped';
}

/**
 * `augur rollout FILE…` against a running server: posts every Release of the files, then follows
 * their events until each ends (unless --detach), and exits with the outcome.
 */
export async function rolloutRemote(ctx: CommandContext): Promise<number> {
  const { releases, apps } = await readReleases(ctx.positionals);
  if (releases.length === 0) throw new UsageError('the files declare no Release');
  // With the Application at hand, check everything locally first: errors then name file and line.
  if (apps.length > 0) await loadFiles(ctx.positionals);
  const client = await clientFor(ctx, apps);
  const submitted: ReleaseView[] = [];
  for (const release of releases) submitted.push(await submit(ctx, client, release));
  if (flag(ctx, 'detach')) {
    if (flag(ctx, 'json')) ctx.io.out(`${JSON.stringify(submitted, null, 2)}\n`);
    else for (const view of submitted) ctx.io.out(`${view.name}: ${view.phase}\n`);
    return EXIT.ok;
  }
  const running = submitted.filter((v) => v.phase === 'running').map((v) => v.name);
  const ended = await Promise.all(running.map((name) => follow(ctx, client, name)));
  if (ended.includes(false)) {
    ctx.io.err('stopped following: the releases go on on the server (`augur status` shows them)\n');
    return EXIT.interrupted;
  }
  const finals: ReleaseView[] = [];
  for (const view of submitted) {
    finals.push(
      await client.request('GET', `/api/v1/releases/${encodeURIComponent(view.name)}`, undefined, {
        shape: releaseShape,
      }),
    );
  }
  if (flag(ctx, 'json')) ctx.io.out(`${JSON.stringify(finals, null, 2)}\n`);
  else for (const view of finals) ctx.io.out(`${view.name}: ${view.phase}\n`);
  const still = finals.find((v) => v.phase === 'running');
  if (still !== undefined) throw new AugurError('STILL_RUNNING', `release ${still.name} has not ended`);
  return Math.max(EXIT.ok, ...finals.map((v) => outcomeExit(v.phase)));
}
