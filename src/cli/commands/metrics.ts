import { parseDuration } from '../../config/duration.js';
import type { MetricsReportBody } from '../../server/metrics-report.js';
import type { Command } from '../command.js';
import { EXIT, flag, stringOption, UsageError } from '../command.js';
import { callServer } from '../client.js';
import { loadFiles } from '../config-files.js';
import { fixed, percent, table } from '../format.js';

export const metrics: Command = {
  name: 'metrics',
  summary: 'Show live metrics per service and revision of a running application.',
  usage: 'FILE… [--service S] [--window 60s] [--json]',
  description:
    'Requests, observed traffic share against the configured weight, error rate, latency quantiles\n' +
    '(DDSketch, 1% relative accuracy), CPU cores and resident memory, over the last --window (or\n' +
    "since the server started, if later). The observed share counts from the split's last change.",
  options: {
    service: { type: 'string', value: 'S', description: 'only this service' },
    window: { type: 'string', value: 'DURATION', description: 'how far back to aggregate', default: '60s' },
    json: { type: 'boolean', description: 'machine-readable output' },
  },
  positionals: { min: 1, max: Infinity, name: 'FILE' },
  examples: ['augur metrics examples/shop/augur.yaml --service cart --window 30s'],
  async run(ctx) {
    const windowText = stringOption(ctx, 'window') ?? '60s';
    const windowMs = parseDuration(windowText);
    if (windowMs === undefined || windowMs < 1000)
      throw new UsageError(`--window must be a duration ≥ 1s, got "${windowText}"`);
    const config = await loadFiles(ctx.positionals);
    const service = stringOption(ctx, 'service');
    if (service !== undefined && config.application.services[service] === undefined) {
      throw new UsageError(
        `unknown service "${service}" (known: ${Object.keys(config.application.services).join(', ')})`,
      );
    }
    const query = new URLSearchParams({ window: String(windowMs / 1000) });
    if (service !== undefined) query.set('service', service);
    const report = await callServer<MetricsReportBody>(
      config.application.stateDir,
      'GET',
      `/api/v1/metrics?${query.toString()}`,
    );
    if (flag(ctx, 'json')) {
      ctx.io.out(`${JSON.stringify(report, null, 2)}\n`);
      return EXIT.ok;
    }
    ctx.io.out(
      table(
        [
          'service',
          'revision',
          'role',
          'weight',
          'observed',
          'requests',
          'req/s',
          'errors',
          'p50',
          'p95',
          'p99',
          'cpu',
          'rss',
        ],
        report.rows.map((r) => [
          r.service,
          r.revision,
          r.role,
          percent(r.weightPercent),
          percent(r.observedPercent),
          String(r.requests),
          fixed(r.rps),
          percent(r.errorRate === null ? null : r.errorRate * 100),
          fixed(r.p50Ms, 1, 'ms'),
          fixed(r.p95Ms, 1, 'ms'),
          fixed(r.p99Ms, 1, 'ms'),
          fixed(r.cpuCores, 2),
          fixed(r.rssBytes === null ? null : r.rssBytes / 1e6, 0, 'MB'),
        ]),
      ),
    );
    const spanS = Math.round((report.to - report.from) / 1000);
    const observedFrom = Math.max(report.from, ...report.rows.map((r) => r.observedFrom ?? report.from));
    ctx.io.out(
      spanS < Math.ceil(windowMs / 1000)
        ? `window: the last ${spanS} s (since the server started; --window ${windowMs / 1000} s reaches back further)\n`
        : `window: last ${windowMs / 1000} s\n`,
    );
    if (observedFrom > report.from)
      ctx.io.out(
        `observed: since the split last changed (${Math.round((report.to - observedFrom) / 1000)} s ago at most), to compare with the weight set now\n`,
      );
    return EXIT.ok;
  },
};
