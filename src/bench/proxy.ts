/**
 * npm run bench:proxy — the same bounded load straight to an upstream and through the builtin
 * router, in one run. Targets: p99 overhead ≤ 1 ms at 2,000 req/s; router throughput ≥ 50% of direct.
 * BENCH_FLOOR=1 also measures a bare TCP relay, the floor for any proxy in Node on the machine.
 * Writes bench/results/proxy.json.
 *
 * The paths are measured in alternating slices rather than one after the other, so that load from
 * elsewhere on a shared machine falls on every path alike instead of on whichever ran at the time.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { figuresOf, fixedRate, maxThroughput, serial } from './http-load.js';
import type { LoadFigures, Samples } from './http-load.js';
import { writeResult } from './results.js';

const here = dirname(fileURLToPath(import.meta.url));
const parts = join(here, 'proxy-parts.js');
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const RATE_MS = Number(process.env.BENCH_RATE_MS ?? 10_000);
const MAX_MS = Number(process.env.BENCH_MAX_MS ?? 5_000);
const CONCURRENCY = 64;
const SERIAL = 5_000;
const SLICES = 5;
const FLOOR = process.env.BENCH_FLOOR === '1';

function startPart(args: string[], nodeArgs: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...nodeArgs, parts, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((res, rej) => {
    child.once('exit', (code) => rej(new Error(`${args[0]} exited with ${String(code)}`)));
    child.stdout?.once('data', (chunk: Buffer) => res({ child, port: Number(chunk.toString().trim()) }));
  });
}

interface Measured {
  rate: LoadFigures;
  max: LoadFigures;
  serial: LoadFigures;
}

/** Runs `stretch` on every port in turn, `SLICES` times, starting with a different port each time. */
async function interleaved(
  ports: readonly number[],
  stretch: (port: number) => Promise<Samples>,
): Promise<LoadFigures[]> {
  const samples = ports.map((): Samples[] => []);
  for (let slice = 0; slice < SLICES; slice++) {
    for (let i = 0; i < ports.length; i++) {
      const at = (slice + i) % ports.length;
      samples[at]?.push(await stretch(ports[at] as number));
    }
  }
  return samples.map(figuresOf);
}

async function measure(ports: readonly number[]): Promise<Measured[]> {
  for (const port of ports) await fixedRate(port, 500, 1_000); // warm-up: JIT, keep-alive pools
  const rate = await interleaved(ports, (port) => fixedRate(port, RATE, RATE_MS / SLICES));
  const max = await interleaved(ports, (port) => maxThroughput(port, CONCURRENCY, MAX_MS / SLICES));
  const one = await interleaved(ports, (port) => serial(port, SERIAL / SLICES));
  return ports.map((_, i) => ({
    rate: rate[i] as LoadFigures,
    max: max[i] as LoadFigures,
    serial: one[i] as LoadFigures,
  }));
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

const upstream = await startPart(['upstream']);
// BENCH_ROUTER_NODE_ARGS (e.g. --cpu-prof) is for profiling the router process.
const routerNodeArgs = (process.env.BENCH_ROUTER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const router = await startPart(['router', String(upstream.port)], routerNodeArgs);
const pipe = FLOOR ? await startPart(['pipe', String(upstream.port)]) : null;
try {
  process.stderr.write(
    `bench:proxy: ${RATE} req/s for ${RATE_MS / 1000} s, then ${CONCURRENCY} in flight for ${MAX_MS / 1000} s, ` +
      `then ${SERIAL} one at a time, each path, in ${SLICES} alternating slices\n`,
  );
  const ports = [upstream.port, router.port, ...(pipe === null ? [] : [pipe.port])];
  const [direct, builtin, floor] = (await measure(ports)) as [Measured, Measured, Measured?];
  const summary = (m: Measured) => ({
    rps: round(m.max.rps, 0),
    p50Ms: round(m.rate.p50Ms),
    p99Ms: round(m.rate.p99Ms),
    serialP99Ms: round(m.serial.p99Ms),
    atRate: { rps: round(m.rate.rps, 0), requests: m.rate.requests, errors: m.rate.errors },
    maxThroughput: { p50Ms: round(m.max.p50Ms), p99Ms: round(m.max.p99Ms), errors: m.max.errors },
    serial: { p50Ms: round(m.serial.p50Ms), p99Ms: round(m.serial.p99Ms), errors: m.serial.errors },
  });
  const result = {
    rate: RATE,
    direct: summary(direct),
    builtin: summary(builtin),
    ...(floor === undefined
      ? {}
      : { pipe: summary(floor), pipeThroughputRatio: round(floor.max.rps / direct.max.rps) }),
    overheadP99Ms: round(builtin.rate.p99Ms - direct.rate.p99Ms),
    throughputRatio: round(builtin.max.rps / direct.max.rps),
    targets: { overheadP99Ms: 1, throughputRatio: 0.5 },
    client: 'raw keep-alive HTTP/1.1 client (bench/raw-client.ts), 3 processes on 2 cores',
  };
  const pass = {
    overhead: result.overheadP99Ms <= 1,
    throughput: result.throughputRatio >= 0.5,
  };
  const out = writeResult('proxy', { ...result, pass, measuredAt: new Date().toISOString() });
  const row = (name: string, s: ReturnType<typeof summary>) =>
    `${name.padEnd(8)} ${String(s.rps).padStart(9)} ${s.p50Ms.toFixed(3).padStart(11)} ${s.p99Ms.toFixed(3).padStart(11)} ${s.serialP99Ms.toFixed(3).padStart(13)}`;
  process.stdout.write(
    [
      `path     max req/s  p50 ms@${RATE}  p99 ms@${RATE}  serial p99 ms`,
      row('direct', result.direct),
      row('builtin', result.builtin),
      ...(floor === undefined ? [] : [row('tcp pipe', summary(floor))]),
      '',
      `p99 overhead at ${RATE} req/s: ${result.overheadP99Ms.toFixed(3)} ms (target ≤ 1 ms): ${pass.overhead ? 'PASS' : 'FAIL'}`,
      `throughput ratio: ${result.throughputRatio.toFixed(3)} (target ≥ 0.5): ${pass.throughput ? 'PASS' : 'FAIL'}`,
      ...(floor === undefined
        ? []
        : [`tcp pipe throughput ratio: ${round(floor.max.rps / direct.max.rps).toFixed(3)} (reference)`]),
      `written to ${out}`,
      '',
    ].join('\n'),
  );
} finally {
  upstream.child.kill('SIGTERM');
  router.child.kill('SIGTERM');
  pipe?.child.kill('SIGTERM');
}
