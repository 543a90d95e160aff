import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { predictPipeline } from '../../predict/pipeline.js';
import { renderReport } from '../../predict/report/index.js';
import type { ApplicationConfig } from '../../config/types.js';
import type { ScenarioFamily } from '../../predict/scenarios.js';
import { parseScenarioWeights } from '../../predict/scenarios.js';
import type { SimulationResult } from '../../predict/types.js';
import type { Command } from '../command.js';
import { EXIT, flag, numberOption, stringOption, UsageError } from '../command.js';
import { loadFilesFindingApplication } from '../config-files.js';
import { fixed, plural, table } from '../format.js';
import { progressBar } from '../progress.js';

export const predict: Command = {
  name: 'predict',
  summary: 'Predict a release before rollout: risk score, predicted ranges per tier, failure points.',
  usage:
    'FILE… [--json] [--report out.html] [--scenarios LIST] [--seeds N] [--seed N] [--rate N] [--workers N] ' +
    '[--no-sandbox] [--sandbox-seconds N]',
  description:
    'Measures the release’s revisions (and their stable counterparts) in a sandbox beside copies of\n' +
    'their dependencies and data, then simulates the whole application at every tier of the release\n' +
    'under a mix of scenarios (nominal, peak, spike, each dependency slowed or down, retry storm) and\n' +
    'seeds on worker threads. Prints the risk score (probability of breaching an acceptable limit\n' +
    'before 100%), the first tier at which a limit breaks, the failure points and the predicted\n' +
    'ranges. Load comes from the store’s history when there is one (no server needed), else --rate.\n' +
    'Given only a release file, the application is read from augur.yaml beside it or above it.\n' +
    'Ranges are per changed revision and tier: p99 latency, error rate, and CPU as a share of the\n' +
    "revision's allocation (replicas × resources.cpu cores): above 100% it needs more than it has, e.g.\n" +
    '130% of 1 core = 1.3 cores. Each scenario’s percentage is the share of its runs that breach a limit.\n' +
    'Exit code 0 when the prediction ran (whatever the risk), 1 when it failed, 2 on bad input.',
  options: {
    json: { type: 'boolean', description: 'print the SimulationResult as JSON' },
    report: { type: 'string', value: 'FILE', description: 'also write a self-contained HTML report' },
    scenarios: {
      type: 'string',
      value: 'LIST',
      description: 'scenario families and weights, e.g. nominal=0.5,peak,down=0.1 (default: all)',
    },
    seeds: { type: 'string', value: 'N', description: 'seeds per scenario', default: '4' },
    seed: { type: 'string', value: 'N', description: 'first seed (runs are reproducible)', default: '1' },
    rate: {
      type: 'string',
      value: 'N',
      description:
        'entry requests/s (default 50): assumed without 10 minutes of history; given, overrides it',
    },
    workers: { type: 'string', value: 'N', description: 'simulation worker threads (default: cores, ≤ 2)' },
    'no-sandbox': { type: 'boolean', description: 'skip the sandbox; use stored history or assumptions' },
    'sandbox-seconds': {
      type: 'string',
      value: 'N',
      description: 'bound on the sandbox’s load time',
      default: '30',
    },
  },
  positionals: { min: 1, max: Infinity, name: 'FILE' },
  examples: [
    'augur predict examples/shop/releases/cart-v3.yaml',
    'augur predict examples/shop/augur.yaml examples/shop/releases/cart-v2.yaml --json --report cart-v2.html',
  ],
  async run(ctx) {
    const seeds = numberOption(ctx, 'seeds', { min: 1, max: 1000, whole: true }) ?? 4;
    const seed = numberOption(ctx, 'seed', { min: 0, max: 2 ** 31, whole: true }) ?? 1;
    const rateGiven = numberOption(ctx, 'rate', { min: 0.001, max: 100_000 });
    const rate = rateGiven ?? 50;
    const workers = numberOption(ctx, 'workers', { min: 1, max: 64, whole: true });
    const sandboxSeconds = numberOption(ctx, 'sandbox-seconds', { min: 3, max: 3600, whole: true }) ?? 30;
    const scenariosText = stringOption(ctx, 'scenarios');
    let weights: Partial<Record<ScenarioFamily, number>> | undefined;
    try {
      weights = scenariosText === undefined ? undefined : parseScenarioWeights(scenariosText);
    } catch (error) {
      throw new UsageError(`--scenarios: ${(error as Error).message}`);
    }
    const { config, found } = await loadFilesFindingApplication(ctx.positionals);
    if (config.releases.length === 0)
      throw new UsageError('no Release in the files: give a release file to predict');
    const say = (line: string): void => ctx.io.err(`${line}\n`);
    if (found !== null) say(`application: ${found}`);
    const reportFile = stringOption(ctx, 'report');
    const reportTargets = new Map<string, string>();
    if (reportFile !== undefined) {
      for (const release of config.releases) {
        const target =
          config.releases.length === 1
            ? resolve(reportFile)
            : resolve(reportFile.replace(/(\.html?)?$/, `-${release.name}$1`));
        checkWritable(target);
        reportTargets.set(release.name, target);
      }
    }
    let failed = false;

    const results: SimulationResult[] = [];
    for (const release of config.releases) {
      if (ctx.signal.aborted) return EXIT.interrupted;
      const bar = progressBar(ctx.io, `simulating ${release.name}`);
      let outcome;
      try {
        outcome = await predictPipeline(config, release, {
          seeds,
          seed,
          defaultRatePerSec: rate,
          ...(rateGiven === undefined ? {} : { ratePerSec: rateGiven }),
          sandbox: !flag(ctx, 'no-sandbox'),
          sandboxSeconds,
          signal: ctx.signal,
          say,
          onProgress: bar.update,
          ...(weights === undefined ? {} : { weights }),
          ...(workers === undefined ? {} : { workers }),
        });
      } catch (error) {
        if (ctx.signal.aborted) {
          ctx.io.err('interrupted: the sandbox was stopped and cleaned up\n');
          return EXIT.interrupted;
        }
        throw error;
      } finally {
        bar.done();
      }
      if (ctx.signal.aborted) return EXIT.interrupted;
      for (const note of outcome.notes) say(`note: ${note}`);
      results.push(outcome.result);
      const target = reportTargets.get(release.name);
      if (target !== undefined) {
        // The prediction is printed whatever happens to the report: it took the longer to make.
        try {
          writeFileSync(
            target,
            renderReport(outcome.result, {
              riskLow: release.risk.low,
              riskHigh: release.risk.high,
              model: outcome.model,
            }),
          );
          say(`report: ${target}`);
        } catch (error) {
          failed = true;
          say(`augur predict: could not write the report ${target}: ${(error as Error).message}`);
        }
      }
      if (!flag(ctx, 'json')) ctx.io.out(describe(outcome.result, release.risk, config.application));
    }
    if (flag(ctx, 'json')) {
      ctx.io.out(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
    }
    return failed ? EXIT.failure : EXIT.ok;
  },
};

/** Refuses, before any work, a report path that cannot be written: a directory, or no such folder. */
function checkWritable(target: string): void {
  const stat = (path: string) => statSync(path, { throwIfNoEntry: false });
  if (stat(target)?.isDirectory() === true)
    throw new UsageError(`--report: ${target} is a directory; give a file name`);
  const folder = dirname(target);
  if (stat(folder)?.isDirectory() !== true)
    throw new UsageError(`--report: the folder ${folder} does not exist`);
}

/**
 * The human summary: verdict, failure points, and the changed services' ranges by tier. With the
 * application, the CPU column says how many cores 100% is.
 */
export function describe(
  result: SimulationResult,
  risk: { low: number; high: number },
  app?: ApplicationConfig,
): string {
  const verdict =
    result.riskScore > risk.high ? 'HIGH RISK' : result.riskScore > risk.low ? 'ELEVATED RISK' : 'LOW RISK';
  const lines: string[] = [];
  lines.push(
    `${result.release}: ${verdict} — risk ${(result.riskScore * 100).toFixed(1)}% (low ≤ ${risk.low * 100}%, high > ${risk.high * 100}%)`,
  );
  lines.push(`  ${result.summary}`);
  lines.push(
    `  first breach under nominal load: ${result.breachTier === null ? 'none' : `the ${result.breachTier}% tier`}`,
  );
  const h = result.provenance.history;
  lines.push(
    `  load: nominal ${fixed(result.provenance.nominalRatePerSec, 1)} req/s, peak ${fixed(result.provenance.peakRatePerSec, 1)} req/s ` +
      (h === null ? '(no stored history: assumed)' : `(from ${h.minutes} minutes of stored history)`),
  );
  const assumed = result.provenance.profiles.filter((p) => p.source === 'configured');
  if (assumed.length > 0) {
    lines.push(
      `  profiles assumed, not measured (1 ms per request): ${assumed.map((p) => `${p.service} ${p.revision}`).join(', ')}` +
        ' — the risk says little about them; run with the sandbox or after production history',
    );
  }
  const measured = result.provenance.profiles.filter((p) => p.source !== 'configured');
  if (measured.length > 0) {
    lines.push(
      `  profiles: ${measured
        .map(
          (p) =>
            `${p.service} ${p.revision} ${fixed(p.serviceTimeMs.mean, 1)} ms, ${fixed(p.cpuMsPerRequest, 1)} ms CPU/req (${p.source})`,
        )
        .join('; ')}`,
    );
  }
  if (result.failurePoints.length > 0) {
    lines.push('  failure points (earliest first):');
    for (const p of result.failurePoints.slice(0, 8))
      lines.push(`    - [${p.kind}, ${p.scenario}] ${p.detail}`);
    if (result.failurePoints.length > 8) lines.push(`    … ${result.failurePoints.length - 8} more (--json)`);
  }
  const changed = [
    ...new Set(result.ranges.filter((r) => r.revision !== '').map((r) => `${r.service}\u0000${r.revision}`)),
  ];
  const subjects = changed.filter((key) => {
    const [service = '', revision = ''] = key.split('\u0000');
    return (
      result.provenance.profiles.some(
        (p) => p.service === service && p.revision === revision && p.source !== 'production',
      ) ||
      result.ranges.some((r) => r.service === service && r.revision === revision && r.breachProbability > 0)
    );
  });
  let busiest: { subject: string; tier: number; high: number; cores: number | null } | null = null;
  for (const key of subjects) {
    const [service = '', revision = ''] = key.split('\u0000');
    const resources = app?.services[service]?.resources;
    const cores = resources === undefined ? null : resources.replicas * resources.cpu;
    for (const r of result.ranges) {
      if (r.service !== service || r.revision !== revision || r.metric !== 'cpuUtilisation') continue;
      if (r.high > 1 && (busiest === null || r.high > busiest.high))
        busiest = { subject: `${service} ${revision}`, tier: r.tier, high: r.high, cores };
    }
    const rows = result.tiers.map((tier) => {
      const cell = (metric: string, digits: number, scale = 1, suffix = ''): string => {
        const r = result.ranges.find(
          (x) => x.service === service && x.revision === revision && x.tier === tier && x.metric === metric,
        );
        return r === undefined
          ? '—'
          : `${fixed(r.low * scale, digits)}–${fixed(r.high * scale, digits)}${suffix}`;
      };
      return [
        `${tier}%`,
        cell('latencyP99Ms', 1, 1, ' ms'),
        cell('errorRate', 2, 100, '%'),
        cell('cpuUtilisation', 0, 100, '%'),
      ];
    });
    const allocation =
      resources === undefined
        ? ''
        : ` (cpu: share of ${plural(resources.replicas, 'replica')} × ` +
          `${coresText(resources.cpu)} = ${coresText(cores ?? 0)})`;
    lines.push(
      `  ${service} ${revision}, predicted at ${Math.round(result.confidence * 100)}% confidence${allocation}:`,
    );
    lines.push(
      table(['tier', 'p99', 'errors', 'cpu'], rows)
        .split('\n')
        .map((l) => (l === '' ? l : `    ${l}`))
        .join('\n'),
    );
  }
  if (subjects.length > 0) {
    lines.push(
      "  cpu is a share of the revision's allocation (replicas × resources.cpu cores); above 100% it needs more than it has",
    );
  }
  if (busiest !== null) {
    const { subject, tier, high, cores } = busiest;
    const example =
      cores === null
        ? `${fixed(high, 2)}× its allocation`
        : `${fixed(high * 100, 0)}% of ${coresText(cores)} = ${coresText(high * cores)}`;
    lines.push(`    the most: ${subject} at the ${tier}% tier, up to ${example}`);
  }
  const seeds = result.seeds.length;
  lines.push(
    `  share of runs breaching a limit, by scenario: ${result.scenarios.map((s) => `${s.name} ${(s.breachProbability * 100).toFixed(0)}%`).join(', ')}` +
      `; ${plural(seeds, 'seed')} per scenario`,
  );
  return `${lines.join('\n')}\n`;
}

/** "1 core", "1.5 cores". */
function coresText(cores: number): string {
  const text = Number(cores.toFixed(2)).toString();
  return `${text} core${text === '1' ? '' : 's'}`;
}
