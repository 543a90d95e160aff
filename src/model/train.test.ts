/**
 * Training on a worker thread. The worker is dist/model/train-worker.js (see trainWorkerUrl), so
 * these tests need `npm run build` first, as `npm test` does.
 */
import { describe, expect, it } from 'vitest';
import { rowOf, synthetic } from './test-fixtures.js';
import { type TrainingRow, ModelTrainingError, trainInWorker, trainModel, trainWorkerUrl } from './train.js';

function rowsOf(n: number, seed: number, cols: number): TrainingRow[] {
  const data = synthetic(n, seed, { cols });
  return Array.from({ length: n }, (_, r) => ({
    at: 1_000 * r,
    features: Array.from(rowOf(data, r)),
    target: data.y[r] as number,
  }));
}

const names = (cols: number): string[] => Array.from({ length: cols }, (_, j) => `f${j}`);

describe('trainInWorker', () => {
  it('gives exactly the version trainModel gives on the main thread', async () => {
    const rows = rowsOf(1_000, 31, 5);
    const options = { featureNames: names(5), gbdt: { trees: 40 }, seed: 9 };
    expect(await trainInWorker(rows, options)).toEqual(trainModel(rows, options));
  });

  it('keeps the event loop ticking while a multi-second fit runs', async () => {
    // 20,000 × 20 rows, 3 × 400 trees: a few seconds of work on the other core.
    const rows = rowsOf(20_000, 32, 20);
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 10);
    const started = performance.now();
    try {
      const version = await trainInWorker(rows, { featureNames: names(20), gbdt: { trees: 400 } });
      expect(version.rows).toBe(16_000);
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(1_500);
    expect(gaps.length).toBeGreaterThan(elapsed / 10 / 3);
    expect(Math.max(...gaps)).toBeLessThan(100);
  });

  it('rejects bad rows at once and stops on abort', async () => {
    const rows = rowsOf(50, 33, 3);
    await expect(trainInWorker(rows, { featureNames: names(2) })).rejects.toThrow(
      /row 0 has 3 features, expected 2/,
    );
    await expect(trainInWorker(rows, { featureNames: names(3), alpha: 2 })).rejects.toThrow(
      /alpha must be in/,
    );
    // Too few calibration rows for α = 0.01 (each side at α/2) is found by the fit itself, in the worker.
    await expect(trainInWorker(rows, { featureNames: names(3), alpha: 0.01 })).rejects.toThrow(
      ModelTrainingError,
    );
    await expect(trainInWorker(rows, { featureNames: names(3), alpha: 0.01 })).rejects.toThrow(
      /needs at least 199/,
    );
    await expect(trainInWorker(rows, { featureNames: names(3) }, AbortSignal.abort())).rejects.toThrow(
      /abort/i,
    );
    const controller = new AbortController();
    const long = trainInWorker(
      rowsOf(20_000, 34, 20),
      { featureNames: names(20), gbdt: { trees: 2_000 } },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 200);
    const started = performance.now();
    await expect(long).rejects.toThrow(/abort/i);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('loads the worker from dist/ when running from src/', () => {
    expect(trainWorkerUrl('file:///repo/src/model/train.ts').href).toBe(
      'file:///repo/dist/model/train-worker.js',
    );
    expect(trainWorkerUrl('file:///repo/dist/model/train.js').href).toBe(
      'file:///repo/dist/model/train-worker.js',
    );
  });
});
