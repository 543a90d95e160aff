/**
 * Worker-thread entry of trainInWorker: trains the one job it is sent and posts the version (or
 * the error, as text) back. Loaded from dist/model/train-worker.js.
 */
import { parentPort } from 'node:worker_threads';
import { type TrainJob, type TrainReply, trainPacked } from './train.js';

const port = parentPort;
if (port === null) throw new Error('model/train-worker.js must run in a worker thread');
port.once('message', (job: TrainJob) => {
  let reply: TrainReply;
  try {
    reply = { version: trainPacked(job.packed, job.options) };
  } catch (error) {
    reply = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
