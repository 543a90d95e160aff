/**
 * Worker-thread entry of runMonteCarlo: simulates each job it is sent and posts the result (or
 * the error, as text) back under the job's index. Loaded from dist/sim/worker.js.
 */
import { parentPort } from 'node:worker_threads';
import type { SimModel } from './model.js';
import { simulate } from './simulate.js';

export interface JobMessage {
  readonly index: number;
  readonly model: SimModel;
  readonly seed: number;
}

const port = parentPort;
if (port === null) throw new Error('sim/worker.js must run in a worker thread');
port.on('message', (job: JobMessage) => {
  try {
    port.postMessage({ index: job.index, result: simulate(job.model, job.seed) });
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    port.postMessage({ index: job.index, error: message });
  }
});
