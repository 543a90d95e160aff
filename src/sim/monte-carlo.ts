import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SimModel, SimRunResult } from './model.js';
import type { JobMessage } from './worker.js';

export interface MonteCarloJob {
  readonly model: SimModel;
  readonly seed: number;
  readonly key: string;
}

export interface MonteCarloOptions {
  /** Worker threads (a whole number ≥ 1); default min(2, availableParallelism()). */
  readonly workers?: number;
  /** Called after each finished job with the number done so far. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborting terminates the workers and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface MonteCarloResult {
  readonly key: string;
  readonly result: SimRunResult;
}

/** A job that threw in its worker (an invalid model, say); `key` names it. */
export class MonteCarloJobError extends Error {
  readonly code = 'SIM_JOB_FAILED';
  override readonly name = 'MonteCarloJobError';
  readonly key: string;

  constructor(key: string, detail: string) {
    super(`simulation job "${key}" failed in its worker: ${detail}`);
    this.key = key;
  }
}

/**
 * The compiled worker entry. From dist/ it sits beside this module. When this module runs from
 * src/ (vitest, tsx), the worker is still taken from dist/ — /src/ becomes /dist/ and .ts .js —
 * since a worker thread cannot load TypeScript: run `npm run build` first (`npm test` does).
 */
export function workerUrl(here: string = import.meta.url): URL {
  const url = new URL('./worker.js', here);
  if (!here.endsWith('.ts')) return url;
  const path = url.pathname;
  const at = path.lastIndexOf('/src/');
  return new URL(`${path.slice(0, at)}/dist/${path.slice(at + '/src/'.length)}`, url);
}

/**
 * Runs independent simulations on worker threads. Jobs are handed out one at a time to whichever
 * worker is free; results come back in job order, and each depends only on its model and seed,
 * so the outcome is the same for any number of workers.
 */
export async function runMonteCarlo(
  jobs: readonly MonteCarloJob[],
  options: MonteCarloOptions = {},
): Promise<MonteCarloResult[]> {
  const signal = options.signal;
  signal?.throwIfAborted();
  if (jobs.length === 0) return [];
  const url = workerUrl();
  if (!existsSync(fileURLToPath(url)))
    throw new Error(`simulation worker not found at ${fileURLToPath(url)}: run \`npm run build\` first`);
  const workers = options.workers ?? Math.min(2, availableParallelism());
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new RangeError(`workers must be a whole number ≥ 1 (got ${workers})`);
  const count = Math.min(workers, jobs.length);
  const results = new Array<MonteCarloResult | undefined>(jobs.length);
  const threads: Worker[] = [];
  let next = 0;
  let done = 0;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      onAbort = () => {
        if (settled) return;
        settled = true;
        reject(signal?.reason instanceof Error ? signal.reason : new Error('simulation aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const feed = (thread: Worker): void => {
        const index = next++;
        const job = jobs[index];
        if (job === undefined) return;
        const message: JobMessage = { index, model: job.model, seed: job.seed };
        thread.postMessage(message);
      };
      for (let i = 0; i < count; i++) {
        const thread = new Worker(url);
        threads.push(thread);
        thread.on('message', (m: { index: number; result?: SimRunResult; error?: string }) => {
          if (settled) return;
          const job = jobs[m.index];
          if (job === undefined) return;
          if (m.error !== undefined || m.result === undefined) {
            fail(new MonteCarloJobError(job.key, m.error ?? 'no result'));
            return;
          }
          results[m.index] = { key: job.key, result: m.result };
          done++;
          try {
            options.onProgress?.(done, jobs.length);
          } catch (error) {
            fail(error);
            return;
          }
          if (done === jobs.length) {
            settled = true;
            resolve();
          } else {
            feed(thread);
          }
        });
        thread.on('error', (error) =>
          fail(new Error(`simulation worker crashed: ${error.message}`, { cause: error })),
        );
        thread.on('exit', (code) => fail(new Error(`simulation worker exited early with code ${code}`)));
        feed(thread);
      }
    });
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    await Promise.all(threads.map((t) => t.terminate()));
  }
  return results.map((r, i) => {
    if (r === undefined) throw new Error(`simulation job ${i} has no result`);
    return r;
  });
}
