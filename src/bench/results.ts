import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where a benchmark writes its figures: bench/results/NAME.json under the working directory, or
 * under $BENCH_RESULTS_DIR (`augur bench --out DIR`), so a trial run leaves the recorded ones alone.
 */
export function resultPath(name: string): string {
  const dir = process.env['BENCH_RESULTS_DIR'];
  return join(dir === undefined || dir === '' ? resolve('bench', 'results') : resolve(dir), `${name}.json`);
}

/** Writes a benchmark's figures as indented JSON (its directory made first); returns the path. */
export function writeResult(name: string, figures: unknown): string {
  const path = resultPath(name);
  mkdirSync(resolve(path, '..'), { recursive: true });
  writeFileSync(path, `${JSON.stringify(figures, null, 2)}\n`);
  return path;
}
