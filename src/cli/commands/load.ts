import { existsSync } from 'node:fs';
import { parseDuration } from '../../config/duration.js';
import type { ProfileKind, RunLoadOptions } from '../../load/index.js';
import { loopbackTarget, runLoad } from '../../load/index.js';
import type { Command, CommandContext } from '../command.js';
import { EXIT, flag, numberOption, stringOption, UsageError } from '../command.js';
import { loadFiles } from '../config-files.js';
import { fixed } from '../format.js';
import { loadReportText, progressLine } from '../load-output.js';

const PROFILES: readonly ProfileKind[] = ['constant', 'diurnal', 'spike'];

const positive = (ctx: CommandContext, name: string): number | undefined =>
  numberOption(ctx, name, { above: 0 });
const count = (ctx: CommandContext, name: string): number | undefined =>
  numberOption(ctx, name, { min: 1, whole: true });

function duration(ctx: CommandContext, name: string): number | undefined {
  const text = stringOption(ctx, name);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new UsageError(`--${name} must be a duration like 30s or 2m, got "${text}"`);
  return ms;
}

export const load: Command = {
  name: 'load',
  summary: 'Send bounded, seeded load to a service on this machine.',
  usage:
    'TARGET [--profile constant|diurnal|spike] [--rate N] [--duration 30s] [--users N] [--path PATH] ' +
    '[--max-requests N] [--max-in-flight N] [--period 60s] [--spike-factor X] [--seed N] [--quiet] [--json]',
  description:
    'TARGET is a loopback URL (http://127.0.0.1:8080/) or an Application file (its entrypoint).\n' +
    'Open-loop Poisson arrivals; each request carries a sticky x-augur-key from --users keys. The run is\n' +
    'bounded by --duration and --max-requests; arrivals beyond --max-in-flight are dropped and counted.\n' +
    'Only loopback targets are accepted.',
  options: {
    profile: {
      type: 'string',
      value: 'KIND',
      description: 'constant | diurnal (compressed day) | spike',
      default: 'constant',
    },
    rate: {
      type: 'string',
      value: 'N',
      description: 'requests/s: constant rate, diurnal peak, or spike base',
      default: '50',
    },
    duration: { type: 'string', value: 'DURATION', description: 'how long to send', default: '30s' },
    users: { type: 'string', value: 'N', description: 'distinct sticky keys', default: '1000' },
    path: { type: 'string', value: 'PATH', description: "request path (overrides the target's)" },
    'max-requests': {
      type: 'string',
      value: 'N',
      description: 'most requests sent (default 3 × peak × duration)',
    },
    'max-in-flight': {
      type: 'string',
      value: 'N',
      description: 'arrivals beyond this many in flight are dropped',
      default: '256',
    },
    period: {
      type: 'string',
      value: 'DURATION',
      description: 'diurnal: length of one compressed day',
      default: '60s',
    },
    'spike-factor': {
      type: 'string',
      value: 'X',
      description: 'spike: multiplier of the base rate',
      default: '2',
    },
    seed: { type: 'string', value: 'N', description: 'seed of arrivals and keys', default: '1' },
    quiet: { type: 'boolean', description: 'no progress lines' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  positionals: { min: 1, max: 1, name: 'TARGET' },
  examples: [
    'augur load http://127.0.0.1:8080/ --rate 40 --duration 1m',
    'augur load examples/shop/augur.yaml --profile diurnal --rate 60 --period 30s --duration 2m',
  ],
  async run(ctx) {
    const target = ctx.positionals[0] ?? '';
    const profile = stringOption(ctx, 'profile') ?? 'constant';
    if (!PROFILES.includes(profile as ProfileKind)) {
      throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, got "${profile}"`);
    }
    let url = target;
    if (!/^https?:\/\//.test(target)) {
      if (!existsSync(target)) throw new UsageError(`"${target}" is neither a URL nor a file`);
      const config = await loadFiles([target]);
      const entry = config.application.services[config.application.entrypoint];
      url = `http://127.0.0.1:${entry?.port ?? 0}/`;
    }
    try {
      loopbackTarget(url);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const maxRequests = count(ctx, 'max-requests');
    const path = stringOption(ctx, 'path');
    const options: RunLoadOptions = {
      target: url,
      profile: profile as ProfileKind,
      rate: positive(ctx, 'rate') ?? 50,
      durationMs: duration(ctx, 'duration') ?? 30_000,
      users: count(ctx, 'users') ?? 1000,
      maxInFlight: count(ctx, 'max-in-flight') ?? 256,
      seed: numberOption(ctx, 'seed', { min: 0, max: 2 ** 31, whole: true }) ?? 1,
      periodMs: duration(ctx, 'period') ?? 60_000,
      spikeFactor: positive(ctx, 'spike-factor') ?? 2,
      signal: ctx.signal,
      ...(path !== undefined ? { path } : {}),
      ...(maxRequests !== undefined ? { maxRequests } : {}),
    };
    if (!flag(ctx, 'quiet')) {
      ctx.io.err(
        `load: ${options.profile ?? 'constant'} at ${fixed(options.rate, 0)} req/s on ${url} for ${options.durationMs / 1000} s\n`,
      );
    }
    const report = await runLoad(options, {
      onProgress: (s) => {
        if (!flag(ctx, 'quiet')) ctx.io.err(`${progressLine(s)}\n`);
      },
    });
    ctx.io.out(flag(ctx, 'json') ? `${JSON.stringify(report, null, 2)}\n` : loadReportText(report));
    return report.stoppedBy === 'signal' ? EXIT.interrupted : EXIT.ok;
  },
};
