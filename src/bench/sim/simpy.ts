import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SimModel } from '../../sim/model.js';

/** Debian's Python: the `python3` first on PATH may not see Debian's packages. */
const PYTHON = '/usr/bin/python3';

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

function aptGet(args: readonly string[]): boolean {
  say(`bench:sim: running apt-get ${args.join(' ')}`);
  const run = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  return run.status === 0;
}

/** SimPy 3 for /usr/bin/python3, installed with apt (python3-simpy3) when missing. */
export function ensureSimpy(): SimpyAvailability {
  const present = simpyVersion();
  if (present !== null) return { ok: true, version: present };
  say(`bench:sim: ${PYTHON} cannot import simpy; installing Debian's python3-simpy3`);
  if (!aptGet(['install', '-y', 'python3-simpy3'])) {
    // A stale package list is the usual cause: refresh it once and try again.
    if (!(aptGet(['update']) && aptGet(['install', '-y', 'python3-simpy3'])))
      return { ok: false, reason: 'apt-get install -y python3-simpy3 failed' };
  }
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

/** Runs a SimModel in bench/sim/shop.py (Infinity timeouts travel as null). */
export function simpyNetwork(model: SimModel, seed: number, timeoutMs = 120_000): SimpyRun {
  const file = join(tmpdir(), `augur-bench-sim-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(model));
  return runScript('shop.py', [file, String(seed)], timeoutMs);
}
