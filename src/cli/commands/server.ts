import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../../core/loopback.js';
import type { Command } from '../command.js';
import { EXIT, flag, numberOption, stringOption, UsageError } from '../command.js';
import { loadFiles } from '../config-files.js';
import { releaseEventLine } from '../release-events.js';
import { addresses, jsonLine, jsonLines, readyDocument, serve, waitForAbort } from '../serve.js';

export const server: Command = {
  name: 'server',
  summary: 'Run the application, the rollout controller, the API (JSON, SSE, Prometheus) and the dashboard.',
  usage: 'FILE… [--port 7070] [--host 127.0.0.1] [--json]',
  description:
    'The long-running Augur: the data plane of the Application in FILE… (as `augur up` runs it), the\n' +
    'rollout controller over the same store (releases a stopped server left running are resumed where\n' +
    'they were), and the API: JSON under /api/v1, events as Server-Sent Events, /metrics for Prometheus,\n' +
    'and the dashboard at / (it asks for a token and keeps it for the browser tab only).\n' +
    'Every request needs a bearer token (`augur token create`); viewer reads, operator also submits and\n' +
    'steers releases, admin also sets traffic. CLI commands on this machine use the admin token written\n' +
    'to <state>/admin.token (mode 0600). Releases in FILE… are not started: they declare the revisions\n' +
    '(and mitigations) that releases posted to the API may use — the API never runs a command line\n' +
    'that is not in these files. The API binds 127.0.0.1 unless --host says otherwise; the services\n' +
    'stay on loopback. Ctrl-C (or SIGTERM) stops everything and exits 0; running releases resume at the\n' +
    'next start. Another Augur already running in the same state directory is refused before anything\n' +
    'starts (exit 2). With --json, stdout carries JSON lines: where everything listens\n' +
    "({ type: 'ready', … }), then each data-plane and release event ({ type: 'plane' | 'release', event }),\n" +
    "then { type: 'stopped' }.",
  options: {
    port: { type: 'string', value: 'N', description: 'port of the API (0 = any free port)', default: '7070' },
    host: {
      type: 'string',
      value: 'ADDR',
      description: 'address of the API (a non-loopback address exposes it: use TLS in front)',
      default: '127.0.0.1',
    },
    json: { type: 'boolean', description: 'JSON lines on stdout: addresses, then events' },
  },
  positionals: { min: 1, max: Infinity, name: 'FILE' },
  examples: [
    'augur server examples/shop/augur.yaml examples/shop/releases/*.yaml',
    'augur token create --role operator examples/shop/augur.yaml   # then: export AUGUR_TOKEN=…',
    'augur rollout examples/shop/releases/cart-v2.yaml --server http://127.0.0.1:7070',
  ],
  async run(ctx) {
    const port = numberOption(ctx, 'port', { min: 0, max: 65_535, whole: true }) ?? 7070;
    const host = stringOption(ctx, 'host') ?? '127.0.0.1';
    const json = flag(ctx, 'json');
    const lines = jsonLines(ctx.io);
    await checkHost(host);
    const config = await loadFiles(ctx.positionals, { serve: true });
    if (!isLoopbackHost(host)) {
      ctx.io.err(
        `warning: the API listens on ${host}, beyond this machine: tokens travel in clear text unless ` +
          'a TLS proxy stands in front\n',
      );
    }
    const serving = await serve(config.application, ctx.io, {
      apiPort: port,
      apiHost: host,
      runReleases: true,
      openReads: false,
      releases: config.releases,
      onReleaseEvent: (event) => {
        if (json) return lines.event({ type: 'release', event });
        const line = releaseEventLine(event);
        if (line !== null) ctx.io.err(`${line}\n`);
      },
      ...(json ? { quiet: true, onEvent: (event) => lines.event({ type: 'plane', event }) } : {}),
    });
    for (const name of serving.resumed) ctx.io.err(`resumed release ${name}\n`);
    if (json) {
      lines.ready(readyDocument(serving, serving.resumed));
    } else {
      ctx.io.out(
        `augur: ${config.application.name} is serving\n${addresses(serving.plane)}  API          ${serving.apiUrl}\n` +
          `  dashboard    ${serving.apiUrl}/  (asks for a token: \`augur token create --role viewer\`)\n`,
      );
      ctx.io.out('Press Ctrl-C to stop.\n');
    }
    await waitForAbort(ctx.signal);
    ctx.io.err('stopping…\n');
    await serving.stop();
    ctx.io.err('stopped: no process left running\n');
    if (json) jsonLine(ctx.io, { type: 'stopped' });
    return EXIT.ok;
  },
};

/** Refuses, before the application starts, a --host that names no address of this machine's resolver. */
async function checkHost(host: string): Promise<void> {
  if (host.trim() === '') throw new UsageError('--host must name an address, e.g. 127.0.0.1');
  if (isIP(host) !== 0) return;
  try {
    await lookup(host);
  } catch {
    throw new UsageError(`--host: "${host}" does not resolve to an address`);
  }
}
