import type { Command } from '../command.js';
import { EXIT, flag, numberOption } from '../command.js';
import { loadFiles } from '../config-files.js';
import { addresses, jsonLine, jsonLines, readyDocument, serve, waitForAbort } from '../serve.js';

export const up: Command = {
  name: 'up',
  summary: 'Run the application: its revisions as processes, the builtin router and metrics.',
  usage: 'FILE… [--api-port N] [--json]',
  description:
    "Starts every service's stable revision (replicas as child processes, logs under the state\n" +
    "directory), opens the builtin router on each service's port, collects metrics, and serves a\n" +
    'control API on 127.0.0.1 used by `augur traffic` and `augur metrics`, with the dashboard at its `/`.\n' +
    'Traffic splits set earlier are restored. Ctrl-C (or SIGTERM) stops everything cleanly and exits 0;\n' +
    'processes left by a killed run are stopped at start. Another Augur already running in the same\n' +
    'state directory is refused before anything starts (exit 2). With --json, stdout carries JSON\n' +
    "lines: where everything listens ({ type: 'ready', … }), then each data-plane event\n" +
    "({ type: 'plane', event }), then { type: 'stopped' }.",
  options: {
    'api-port': {
      type: 'string',
      value: 'N',
      description: 'port of the control API on 127.0.0.1 (0 = any free port)',
      default: '0',
    },
    json: { type: 'boolean', description: 'JSON lines on stdout: addresses, then events' },
  },
  positionals: { min: 1, max: Infinity, name: 'FILE' },
  examples: ['augur up examples/shop/augur.yaml'],
  async run(ctx) {
    const apiPort = numberOption(ctx, 'api-port', { min: 0, max: 65_535, whole: true }) ?? 0;
    const config = await loadFiles(ctx.positionals, { serve: true });
    const json = flag(ctx, 'json');
    const lines = jsonLines(ctx.io);
    const serving = await serve(config.application, ctx.io, {
      apiPort,
      ...(json ? { quiet: true, onEvent: (event) => lines.event({ type: 'plane', event }) } : {}),
    });
    if (json) {
      lines.ready(readyDocument(serving));
    } else {
      ctx.io.out(
        `augur: ${config.application.name} is up\n${addresses(serving.plane)}  control API  ${serving.apiUrl}\n` +
          `  dashboard    ${serving.apiUrl}/\n`,
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
