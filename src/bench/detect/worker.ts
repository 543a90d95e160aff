/** Worker thread: runs the tasks it is sent and posts each result back (transferred, not copied). */
import { parentPort } from 'node:worker_threads';
import { runTask } from './tasks.js';
import type { Task } from './tasks.js';

const port = parentPort;
if (port === null) throw new Error('detect worker must run in a worker thread');
port.on('message', (message: { readonly id: number; readonly task: Task }) => {
  const result = runTask(message.task);
  port.postMessage({ id: message.id, result }, [result.buffer as ArrayBuffer]);
});
