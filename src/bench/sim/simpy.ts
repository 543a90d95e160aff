import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SimModel } from '../../sim/model.js';

/** Debian's Python: the `python3` first on PATH may not see Debian's packages. */
export const PYTHON = '/usr/bin/python3';

export type SimpyAvailability =
  { readonly ok: true; readonly version: string } | { readonly ok: false; readonly reason: string };

const say = (line: string): void => void process.stderr.write(`${line}\n`);

function simpyVersion(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import simpy; print(simpy.__version__)'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

/** Runs apt-get as PATH finds it (the system's, wherever it lives). */
function aptGet(args: readonly string[]): 'ok' | 'failed' | 'absent' {
  say(`bench:sim: running apt-get ${args.join(' ')}`);
  const run = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return 'absent';
  return run.status === 0 ? 'ok' : 'failed';
}

/** SimPy 3 for /usr/bin/python3, installed with apt (python3-simpy3) only when it is missing. */
export function ensureSimpy(): SimpyAvailability {
  const present = simpyVersion();
  if (present !== null) return { ok: true, version: present };
  say(`bench:sim: ${PYTHON} cannot import simpy; installing Debian's python3-simpy3`);
  const install = ['install', '-y', 'python3-simpy3'];
  const first = aptGet(install);
  if (first === 'absent')
    return { ok: false, reason: 'python3-simpy3 is missing, and there is no apt-get on PATH to install it' };
  // A stale package list is the usual cause: refresh it once and try again.
  if (first === 'failed' && !(aptGet(['update']) === 'ok' && aptGet(install) === 'ok'))
    return { ok: false, reason: 'apt-get install -y python3-simpy3 failed' };
  const installed = simpyVersion();
  return installed === null
    ? { ok: false, reason: `python3-simpy3 installed but ${PYTHON} still cannot import simpy` }
    : { ok: true, version: installed };
}

export interface SimpyRun {
  readonly events: number;
  readonly heapEvents: number;
  readonly seconds: number;
  readonly [figure: string]: number | string;
}

function runScript(script: string, args: readonly string[], timeoutMs: number): SimpyRun {
  const path = resolve('bench/sim', script);
  const run = spawnSync(PYTHON, [path, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 1 << 20,
  });
  if (run.error !== undefined) throw new Error(`${script}: ${run.error.message}`);
  if (run.status !== 0)
    throw new Error(`${script} exited with ${run.status}: ${run.stderr.trim().slice(-500)}`);
  return JSON.parse(run.stdout) as SimpyRun;
}

export function simpyMm1(
  customers: number,
  ratePerMs: number,
  meanServiceMs: number,
  seed: number,
): SimpyRun {
  return runScript(
    'mm1.py',
    [String(customers), String(ratePerMs), String(meanServiceMs), String(seed)],
    120_000,
  );
}

/**
 * Hands `use` the path of a file holding `model` as JSON, in a directory of its own made for it
 * (name unpredictable, readable by this user only, so no one else can place or swap the file),
 * and removes the directory afterwards, whatever `use` did.
 */
export function withModelFile<T>(model: SimModel, use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'augur-bench-sim-'));
  try {
    const file = join(dir, 'model.json');
    writeFileSync(file, JSON.stringify(model), { mode: 0o600, flag: 'wx' });
    return use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a SimModel in bench/sim/shop.py (Infinity timeouts travel as null). */
export function simpyNetwork(model: SimModel, seed: number, timeoutMs = 120_000): SimpyRun {
  return withModelFile(model, (file) => runScript('shop.py', [file, String(seed)], timeoutMs));
}
