/**
 * The worker pool. Workers load dist/sim/worker.js (see workerUrl), so these tests need
 * `npm run build` first, as `npm test` does.
 */
import { describe, expect, it } from 'vitest';
import type { SimModel } from './model.js';
import { MonteCarloJobError, runMonteCarlo, workerUrl } from './monte-carlo.js';
import { simulate } from './simulate.js';
import { mixedModel } from './test-fixtures.js';

const jobs = [1, 2, 3, 4, 5].map((seed) => ({ model: mixedModel, seed, key: `mixed|${seed}` }));

describe('runMonteCarlo', () => {
  it('gives, in job order, exactly the results of single-thread runs, for any number of workers', async () => {
    const progress: number[] = [];
    const pooled = await runMonteCarlo(jobs, {
      workers: 2,
      onProgress: (done, total) => progress.push(done / total),
    });
    const direct = jobs.map((job) => ({ key: job.key, result: simulate(job.model, job.seed) }));
    expect(pooled).toEqual(direct);
    expect(progress).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    expect(await runMonteCarlo(jobs.slice(0, 3), { workers: 1 })).toEqual(direct.slice(0, 3));
    expect(await runMonteCarlo([], {})).toEqual([]);
  });

  it('rejects with the failing job named when a worker throws', async () => {
    const broken: SimModel = { ...mixedModel, entrypoint: 9 };
    await expect(
      runMonteCarlo([...jobs.slice(0, 2), { model: broken, seed: 1, key: 'broken' }], { workers: 2 }),
    ).rejects.toThrow(MonteCarloJobError);
    await expect(runMonteCarlo([{ model: broken, seed: 1, key: 'broken' }], { workers: 1 })).rejects.toThrow(
      /simulation job "broken" failed in its worker: SimModelError: entrypoint/,
    );
  });

  it('stops on abort, before or during the run', async () => {
    await expect(runMonteCarlo(jobs, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
    const controller = new AbortController();
    const long = { ...mixedModel, durationMs: 10_000_000 };
    const running = runMonteCarlo([{ model: long, seed: 1, key: 'long' }], { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const started = performance.now();
    await expect(running).rejects.toThrow(/abort/i);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('loads the worker from dist/ when running from src/', () => {
    expect(workerUrl('file:///repo/src/sim/monte-carlo.ts').href).toBe('file:///repo/dist/sim/worker.js');
    expect(workerUrl('file:///repo/dist/sim/monte-carlo.js').href).toBe('file:///repo/dist/sim/worker.js');
  });
});
