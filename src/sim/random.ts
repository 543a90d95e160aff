/**
 * The simulation's generator is the project's: core/random.ts's SeededRandom, whose state lives in
 * a Uint32Array so that a draw allocates nothing (the engine makes two or more per event).
 */
export { SeededRandom as SimRandom } from '../core/random.js';
