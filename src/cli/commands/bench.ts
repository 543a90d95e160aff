import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inheritedEnv } from '../../core/child-env.js';
import { didYouMean } from '../../config/suggest.js';
import type { Command, CommandContext } from '../command.js';
import { EXIT, flag, stringOption, UsageError } from '../command.js';

/** The benchmarks, in the order `augur bench --help` lists them, and what each measures. */
export const BENCHMARKS: Readonly<Record<string, string>> = {
  proxy: 'builtin router vs direct: p99 overhead at 2,000 req/s, throughput ratio (about 1 min)',
  detect: 'detection on seeded request streams: Augur vs the SPRT oracle, Flagger, Argo, Kayenta',
  reaction: 'real processes: from a canary failing every request to its weight at 0 (p50, p99)',
  sim: 'simulation engine speed beside SimPy 3 (installs python3-simpy3 when missing)',
  predict: "the model's 90% ranges on a generated production history: coverage and width",
};

/** The package's root: benchmarks run there, and write bench/results/NAME.json there. */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');

export const bench: Command = {
  name: 'bench',
  summary: 'Run benchmarks: their figures beside each target (or peer), written to bench/results.',
  usage: 'NAME… [--out DIR] [--json]',
  description:
    `Runs each named benchmark in turn, as \`npm run bench:NAME\` does, in the package's directory\n` +
    `(${packageRoot}), where it writes bench/results/NAME.json (with --out, DIR/NAME.json instead).\n` +
    'Progress goes to stderr and the figures to stdout; with --json the figures are the result files,\n' +
    'as one JSON object by name.\n' +
    'Knobs (BENCH_STREAMS, BENCH_TRIALS, …) are read from the environment: docs/benchmarks.md.\n\n' +
    Object.entries(BENCHMARKS)
      .map(([name, what]) => `  ${name.padEnd(10)}${what}`)
      .join('\n'),
  options: {
    out: {
      type: 'string',
      value: 'DIR',
      description: 'write the result files to DIR, leaving bench/results as it is',
    },
    json: { type: 'boolean', description: 'print the result files (one object by name) on stdout' },
  },
  positionals: { min: 1, max: Object.keys(BENCHMARKS).length, name: 'NAME…' },
  examples: ['augur bench proxy', 'BENCH_STREAMS=50 augur bench detect --json'],
  async run(ctx) {
    const names = ctx.positionals.map((name) => checkName(name));
    if (new Set(names).size !== names.length) throw new UsageError('each benchmark is named once');
    const json = flag(ctx, 'json');
    const outText = stringOption(ctx, 'out');
    if (outText === '') throw new UsageError('--out needs a directory');
    const outDir = outText === undefined ? join(packageRoot, 'bench', 'results') : resolve(outText);
    const results: Record<string, unknown> = {};
    for (const name of names) {
      const script = join(benchDir, `${name}.js`);
      if (!existsSync(script)) {
        ctx.io.err(`augur bench: ${script} is missing: run \`npm run build\` first\n`);
        return EXIT.failure;
      }
      const code = await runScript(ctx, script, json, outDir);
      if (code !== EXIT.ok) {
        ctx.io.err(
          `augur bench: ${name} ${code === EXIT.interrupted ? 'was interrupted' : `exited with ${code}`}\n`,
        );
        return code;
      }
      if (json) results[name] = readResult(outDir, name);
    }
    if (json) ctx.io.out(`${JSON.stringify(results, null, 2)}\n`);
    return EXIT.ok;
  },
};

function checkName(name: string): string {
  if (Object.hasOwn(BENCHMARKS, name)) return name;
  throw new UsageError(
    `unknown benchmark "${name}"${didYouMean(name, Object.keys(BENCHMARKS))}: one of ${Object.keys(BENCHMARKS).join(', ')}`,
  );
}

/**
 * Runs one benchmark script in its own Node process, in the package's directory. Its stdout is
 * passed through — to stderr under --json, where stdout carries only the result files. Ctrl-C
 * stops it (SIGTERM, then SIGKILL after 5 s).
 */
function runScript(ctx: CommandContext, script: string, json: boolean, outDir: string): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script], {
      cwd: packageRoot,
      env: { ...inheritedEnv(process.env), BENCH_RESULTS_DIR: outDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => (json ? ctx.io.err(text) : ctx.io.out(text)));
    child.stderr.on('data', (text: string) => ctx.io.err(text));
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      killTimer.unref();
    };
    ctx.signal.addEventListener('abort', stop, { once: true });
    child.once('error', (error) => {
      ctx.signal.removeEventListener('abort', stop);
      fail(error);
    });
    child.once('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', stop);
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (ctx.signal.aborted) done(EXIT.interrupted);
      else done(code ?? (signal === null ? EXIT.failure : EXIT.interrupted));
    });
  });
}

function readResult(dir: string, name: string): unknown {
  const path = join(dir, `${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}
