import type { Command } from '../command.js';
import { abort, pause, promote, resume, rollback } from './actions.js';
import { bench } from './bench.js';
import { demo } from './demo.js';
import { load } from './load.js';
import { metrics } from './metrics.js';
import { model } from './model.js';
import { predict } from './predict.js';
import { rollout } from './rollout.js';
import { server } from './server.js';
import { status } from './status.js';
import { token } from './token.js';
import { traffic } from './traffic.js';
import { up } from './up.js';
import { validate } from './validate.js';

/** Every command, in the order `augur --help` lists them. */
export const commands: readonly Command[] = [
  validate,
  predict,
  model,
  up,
  server,
  token,
  rollout,
  status,
  pause,
  resume,
  promote,
  abort,
  rollback,
  traffic,
  metrics,
  load,
  demo,
  bench,
];
