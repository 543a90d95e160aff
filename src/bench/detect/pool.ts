import { Worker } from 'node:worker_threads';
import type { Task } from './tasks.js';
import { runTask } from './tasks.js';

/**
 * Runs tasks on `workers` threads (in this thread when 1). Results come back by task index, so
 * the outcome does not depend on which thread ran what: the run stays deterministic.
 */
export async function runAll(
  tasks: readonly Task[],
  workers: number,
  onProgress: (done: number) => void,
): Promise<Float64Array[]> {
  const results: Float64Array[] = new Array<Float64Array>(tasks.length);
  if (workers <= 1) {
    for (const [i, task] of tasks.entries()) {
      results[i] = runTask(task);
      onProgress(i + 1);
    }
    return results;
  }
  let next = 0;
  let done = 0;
  const url = new URL('./worker.js', import.meta.url);
  const threads = Array.from({ length: Math.min(workers, tasks.length) }, () => new Worker(url));
  try {
    await Promise.all(
      threads.map(
        (thread) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              const id = next++;
              const task = tasks[id];
              if (task === undefined) {
                resolve();
                return;
              }
              thread.postMessage({ id, task });
            };
            thread.on('message', (m: { readonly id: number; readonly result: Float64Array }) => {
              results[m.id] = m.result;
              onProgress(++done);
              feed();
            });
            thread.on('error', reject);
            thread.on('exit', (code) => {
              if (code !== 0) reject(new Error(`detect worker exited with ${code}`));
            });
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
  return results;
}
