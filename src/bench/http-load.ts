import { performance } from 'node:perf_hooks';
import { RawClient } from './raw-client.js';

export interface LoadFigures {
  readonly requests: number;
  readonly errors: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** What one stretch of load measured; stretches of the same kind merge into one set of figures. */
export interface Samples {
  readonly latencies: readonly number[];
  readonly errors: number;
  readonly elapsedMs: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export function figuresOf(stretches: readonly Samples[]): LoadFigures {
  const sorted = Float64Array.from(stretches.flatMap((s) => s.latencies)).sort();
  const elapsedMs = stretches.reduce((sum, s) => sum + s.elapsedMs, 0);
  return {
    requests: sorted.length,
    errors: stretches.reduce((sum, s) => sum + s.errors, 0),
    rps: (sorted.length / elapsedMs) * 1000,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
  };
}

/** Open-loop load at a fixed rate for a bounded time: latency is measured from the scheduled send. */
export async function fixedRate(port: number, rate: number, durationMs: number): Promise<Samples> {
  const client = new RawClient(port);
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.floor((rate * durationMs) / 1000);
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
    for (; sent < due; sent++) {
      pending.push(
        client.get().then((r) => {
          latencies.push(r.ms);
          if (!r.ok) errors++;
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const elapsedMs = performance.now() - start;
  client.close();
  return { latencies, errors, elapsedMs };
}

/** Closed-loop load with `concurrency` requests in flight for a bounded time: the throughput ceiling. */
export async function maxThroughput(port: number, concurrency: number, durationMs: number): Promise<Samples> {
  const client = new RawClient(port);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const r = await client.get();
      latencies.push(r.ms);
      if (!r.ok) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  client.close();
  return { latencies, errors, elapsedMs };
}

/** One request at a time on one connection: the latency of a path with nothing queued. */
export async function serial(port: number, count: number): Promise<Samples> {
  const client = new RawClient(port);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const r = await client.get();
    latencies.push(r.ms);
    if (!r.ok) errors++;
  }
  const elapsedMs = performance.now() - start;
  client.close();
  return { latencies, errors, elapsedMs };
}
