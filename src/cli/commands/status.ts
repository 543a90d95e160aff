import type { ReleaseView } from '../../server/release-view.js';
import type { Command, CommandContext } from '../command.js';
import { EXIT, flag } from '../command.js';
import type { ApiClient } from '../client.js';
import { releaseEventLine } from '../release-events.js';
import { eventListShape, releaseListShape, releaseShape } from '../api-shapes.js';
import { releasesTable } from '../release-table.js';
import { clientFor, REMOTE_HELP, REMOTE_OPTIONS } from '../remote.js';

/** Re-renders at most this often while events pour in. */
const RENDER_EVERY_MS = 250;
const RECENT_EVENTS = 8;

async function snapshot(client: ApiClient, name: string | undefined): Promise<unknown> {
  if (name === undefined)
    return client.request('GET', '/api/v1/releases', undefined, { shape: releaseListShape });
  const path = `/api/v1/releases/${encodeURIComponent(name)}`;
  const view = await client.request('GET', path, undefined, { shape: releaseShape });
  const after = Math.max(-1, view.lastSequence - 200);
  const { events } = await client.request('GET', `${path}/events?after=${after}`, undefined, {
    shape: eventListShape,
  });
  const recent = events
    .map(releaseEventLine)
    .filter((l): l is string => l !== null)
    .slice(-RECENT_EVENTS);
  return { release: view, recent };
}

function render(body: unknown, name: string | undefined): string {
  if (name === undefined) return releasesTable((body as { releases: ReleaseView[] }).releases);
  const { release, recent } = body as { release: ReleaseView; recent: string[] };
  const lines = [releasesTable([release])];
  if (recent.length > 0) lines.push('recent events:', ...recent.map((l) => `  ${l}`), '');
  return lines.join('\n');
}

/**
 * Prints a snapshot. Watching on a terminal redraws the screen each time; without one (a pipe, a
 * log file) it prints a table only when it differs from the last one printed, so that a log holds
 * one copy per change rather than one per event.
 */
function printer(ctx: CommandContext, name: string | undefined): (body: unknown, watching: boolean) => void {
  let shown: string | null = null;
  return (body, watching) => {
    if (flag(ctx, 'json')) {
      // Watching prints one JSON document per line, so that a consumer can read them as they come.
      const { recent: _recent, ...rest } = body as { recent?: unknown };
      const json = name === undefined ? body : rest;
      ctx.io.out(`${watching ? JSON.stringify(json) : JSON.stringify(json, null, 2)}\n`);
      return;
    }
    const text = render(body, name);
    if (watching && !ctx.io.isTty && text === shown) return;
    shown = text;
    const clear = watching && ctx.io.isTty ? '\x1b[2J\x1b[H' : '';
    const stamp = watching ? `${new Date().toISOString().slice(11, 19)}  (Ctrl-C stops watching)\n` : '';
    ctx.io.out(`${clear}${stamp}${text}`);
  };
}

export const status: Command = {
  name: 'status',
  summary: 'Show releases: phase, and per service its tier, weight, state and reason.',
  usage: '[RELEASE] [-w|--watch] [--server URL] [--token T] [-f FILE] [--json]',
  description:
    'Without RELEASE, every release the server knows; with RELEASE, that one and its recent events.\n' +
    'With -w, renders again on every event (Server-Sent Events) until Ctrl-C: on a terminal it redraws\n' +
    'the screen; otherwise (a pipe, a log) it prints the table again only when it has changed. With\n' +
    '--json too, one JSON document per line, one per event. Needs the viewer role.\n\n' +
    REMOTE_HELP,
  options: {
    watch: { type: 'boolean', short: 'w', description: 'render again on every event until Ctrl-C' },
    ...REMOTE_OPTIONS,
    json: { type: 'boolean', description: 'machine-readable output' },
  },
  positionals: { min: 0, max: 1, name: 'RELEASE' },
  examples: [
    'augur status -f examples/shop/augur.yaml',
    'augur status cart-v2 -w --server http://127.0.0.1:7070',
  ],
  async run(ctx) {
    const name = ctx.positionals[0];
    const client = await clientFor(ctx);
    const print = printer(ctx, name);
    const first = await snapshot(client, name);
    print(first, flag(ctx, 'watch'));
    if (!flag(ctx, 'watch')) return EXIT.ok;

    let timer: NodeJS.Timeout | null = null;
    let rendering = Promise.resolve();
    const rerender = (): void => {
      timer = null;
      rendering = rendering
        .then(async () => print(await snapshot(client, name), true))
        .catch((error: unknown) => ctx.io.err(`status: ${(error as Error).message}\n`));
    };
    const path =
      name === undefined ? '/api/v1/events' : `/api/v1/releases/${encodeURIComponent(name)}/events/stream`;
    // A release's stream starts after what the first rendering showed; the global one is live only.
    const start =
      name === undefined
        ? {}
        : { lastEventId: String((first as { release: ReleaseView }).release.lastSequence) };
    await client.follow(
      path,
      () => {
        timer ??= setTimeout(rerender, RENDER_EVERY_MS);
      },
      { signal: ctx.signal, ...start },
    );
    if (timer !== null) clearTimeout(timer);
    await rendering;
    return EXIT.ok;
  },
};
