/**
 * Measures the model's fit and prediction times on the synthetic data of the tests and prints
 * them (docs/model.md quotes the figures). Run: `npm run build && node dist/model/timing.js`.
 */
import { fitCqr } from './cqr.js';
import { fitQuantileGbdt } from './gbdt.js';
import { rowOf, synthetic } from './test-fixtures.js';
import { trainInWorker } from './train.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function time(label: string, repeats: number, run: () => void): number {
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    ms.push(performance.now() - start);
  }
  const m = median(ms);
  console.log(
    `${label.padEnd(58)} median ${m.toFixed(0).padStart(6)} ms  (runs: ${ms.map((x) => x.toFixed(0)).join(', ')})`,
  );
  return m;
}

const data = synthetic(10_000, 1);
console.log(`node ${process.version}, data 10,000 rows × 20 features (synthetic, seed 1)`);
time('2 × 200 trees, depth 4 (defaults), both quantiles', 5, () => {
  fitQuantileGbdt(data.X, data.y, { quantile: 0.05 });
  fitQuantileGbdt(data.X, data.y, { quantile: 0.95 });
});
time('2 × 200 trees, depth 6, both quantiles', 3, () => {
  fitQuantileGbdt(data.X, data.y, { quantile: 0.05, depth: 6 });
  fitQuantileGbdt(data.X, data.y, { quantile: 0.95, depth: 6 });
});
time('2 × 200 trees, depth 4, bins 255, subsample 1', 3, () => {
  fitQuantileGbdt(data.X, data.y, { quantile: 0.05, bins: 255, subsample: 1 });
  fitQuantileGbdt(data.X, data.y, { quantile: 0.95, bins: 255, subsample: 1 });
});
time('fitCqr (7,000 training + 3,000 calibration rows)', 3, () => {
  fitCqr(data);
});
const model = fitCqr(data);
const probe = synthetic(10_000, 2);
const predictMs = time('10,000 calibrated intervals, one row at a time', 5, () => {
  for (let r = 0; r < probe.rows; r++) model.interval(rowOf(probe, r));
});
console.log(`  → ${((predictMs * 1000) / probe.rows).toFixed(1)} µs per interval`);
console.log(`model JSON: ${(JSON.stringify(model).length / 1024).toFixed(0)} KB`);

const rows = Array.from({ length: 10_000 }, (_, r) => ({
  at: r,
  features: Array.from(rowOf(data, r)),
  target: data.y[r] as number,
}));
let last = performance.now();
let worst = 0;
const timer = setInterval(() => {
  const now = performance.now();
  worst = Math.max(worst, now - last);
  last = now;
}, 10);
const start = performance.now();
await trainInWorker(rows, { featureNames: Array.from({ length: 20 }, (_, j) => `f${j}`) });
clearInterval(timer);
console.log(
  `trainInWorker, 10,000 rows (8,000 fitted): ${(performance.now() - start).toFixed(0)} ms wall, ` +
    `largest gap of a 10 ms timer on the main thread ${worst.toFixed(0)} ms`,
);
