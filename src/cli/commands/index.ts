import type { Command } from '../command.js';
import { demo } from './demo.js';
import { load } from './load.js';
import { metrics } from './metrics.js';
import { rollout } from './rollout.js';
import { traffic } from './traffic.js';
import { up } from './up.js';
import { validate } from './validate.js';

/** Every command, in the order `augur --help` lists them. */
export const commands: readonly Command[] = [validate, up, traffic, metrics, load, rollout, demo];
