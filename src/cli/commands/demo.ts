import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfiguration } from '../../config/index.js';
import { formatIssues } from '../../config/issues.js';
import { parseDuration } from '../../config/duration.js';
import { runLoad } from '../../load/index.js';
import { metricsReport } from '../../server/metrics-report.js';
import type { Command } from '../command.js';
import { EXIT, flag, stringOption, UsageError } from '../command.js';
import { fixed, percent, table } from '../format.js';
import { loadReportText, progressLine } from '../load-output.js';
import { addresses, serve } from '../serve.js';

/** The package root: the demo runs the shop shipped with Augur, wherever it is started from. */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const demo: Command = {
  name: 'demo',
  summary: 'Run the example shop under production-like load, with a canary on 5% of cart.',
  usage: '[--duration 60s] [--rate 40] [--json]',
  description:
    'Starts examples/shop (frontend → catalog, frontend → cart → payments) on ports 8080–8083 with the\n' +
    "builtin router and metrics, sends a compressed diurnal load, puts cart v2 on 5% of cart's traffic\n" +
    'after the first third, and prints per-revision metrics at the end. Ctrl-C stops early, cleanly.',
  options: {
    duration: { type: 'string', value: 'DURATION', description: 'how long the load runs', default: '60s' },
    rate: { type: 'string', value: 'N', description: 'peak page views per second', default: '40' },
    json: { type: 'boolean', description: 'print the final report as JSON' },
  },
  positionals: { min: 0, max: 0, name: '' },
  async run(ctx) {
    const durationMs = parseDuration(stringOption(ctx, 'duration') ?? '60s');
    if (durationMs === undefined || durationMs < 3000) throw new UsageError('--duration must be at least 3s');
    const rate = Number(stringOption(ctx, 'rate') ?? '40');
    if (!Number.isFinite(rate) || rate <= 0) throw new UsageError('--rate must be a positive number');

    const file = join(packageRoot, 'examples', 'shop', 'augur.yaml');
    const loaded = await loadConfiguration([file], { cwd: packageRoot, checkPorts: true });
    if (!loaded.ok) {
      ctx.io.err(`${formatIssues(loaded.error)}\nthe demo needs ports 8080–8083 free on 127.0.0.1\n`);
      return EXIT.usage;
    }
    const app = loaded.value.application;
    const serving = await serve(app, ctx.io, { quiet: true });
    try {
      ctx.io.err(`augur demo: the shop is up\n${addresses(serving.plane)}  control API  ${serving.apiUrl}\n`);
      ctx.io.err(`load: diurnal, peak ${rate} pages/s, for ${durationMs / 1000} s (Ctrl-C stops)\n`);
      const entry = serving.plane.router.address(app.entrypoint);
      const canaryAt = setTimeout(() => {
        serving.plane
          .setTraffic('cart', 'v2', 500)
          .then(() => ctx.io.err('traffic: cart v2 now serves 5% of cart (sticky per user)\n'))
          .catch((error: unknown) =>
            ctx.io.err(`traffic: could not start cart v2: ${(error as Error).message}\n`),
          );
      }, durationMs / 3);
      const report = await runLoad(
        {
          target: `http://${entry.host}:${entry.port}/`,
          profile: 'diurnal',
          rate,
          durationMs,
          periodMs: Math.min(60_000, durationMs),
          users: 2000,
          signal: ctx.signal,
        },
        { onProgress: (s) => ctx.io.err(`${progressLine(s)}\n`) },
      );
      clearTimeout(canaryAt);
      const metrics = await metricsReport(serving.plane, durationMs + 1000);
      if (flag(ctx, 'json')) {
        ctx.io.out(`${JSON.stringify({ load: report, metrics }, null, 2)}\n`);
      } else {
        ctx.io.out(`\n${loadReportText(report)}\n`);
        ctx.io.out(
          table(
            ['service', 'revision', 'weight', 'observed', 'requests', 'errors', 'p50', 'p99', 'cpu'],
            metrics.rows.map((r) => [
              r.service,
              r.revision,
              percent(r.weightPercent),
              percent(r.observedPercent),
              String(r.requests),
              percent(r.errorRate === null ? null : r.errorRate * 100),
              fixed(r.p50Ms, 1, 'ms'),
              fixed(r.p99Ms, 1, 'ms'),
              fixed(r.cpuCores, 2),
            ]),
          ),
        );
      }
      return report.stoppedBy === 'signal' ? EXIT.interrupted : EXIT.ok;
    } finally {
      ctx.io.err('stopping the shop…\n');
      await serving.stop();
    }
  },
};
