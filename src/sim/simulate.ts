import { compileModel } from './compile.js';
import { Engine } from './engine.js';
import type { SimModel, SimRunResult } from './model.js';
import { buildResult } from './result.js';

/**
 * Runs one simulation of the model: warm-up, then `durationMs` measured. Deterministic: the same
 * model and seed give the same result, bit for bit. Throws SimModelError on an invalid model.
 */
export function simulate(model: SimModel, seed: number): SimRunResult {
  const engine = new Engine(model, compileModel(model), seed);
  engine.run();
  return buildResult(model, engine, seed);
}
