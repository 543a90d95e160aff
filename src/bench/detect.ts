/**
 * npm run bench:detect — seeded synthetic request streams judged, on the same requests, by Augur's
 * real decision path (decision core + sequential analysis) and by re-implementations of Flagger's,
 * Argo Rollouts' and Kayenta's judges. Prints every figure and each target's PASS/FAIL; writes
 * bench/results/detect.json. Knobs: BENCH_STREAMS (per case), BENCH_AA_RUNS, BENCH_WORKERS, BENCH_ONLY
 * (a regular expression on case names, for development: the other cases report no streams).
 */
import { availableParallelism } from 'node:os';
import { runAll } from './detect/pool.js';
import { checks, table } from './detect/report.js';
import type { AaFigures } from './detect/report.js';
import { JUDGES } from './detect/run-stream.js';
import type { Outcome } from './detect/run-stream.js';
import { setup } from './detect/setup.js';
import { caseFigures, judgeFigures } from './detect/summary.js';
import { decode } from './detect/tasks.js';
import type { Task } from './detect/tasks.js';
import { AA, ALPHA, CASES, ROLLOUT } from './detect/scenario.js';
import { writeResult } from './results.js';

const positive = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a whole number > 0`);
  return value;
};
const STREAMS = positive('BENCH_STREAMS', 200);
const AA_RUNS = positive('BENCH_AA_RUNS', 10_000);
/** A regular expression: only the cases whose name matches run (the others report no streams). */
const ONLY = process.env.BENCH_ONLY === undefined ? null : new RegExp(process.env.BENCH_ONLY);
const WORKERS = positive('BENCH_WORKERS', Math.min(2, availableParallelism()));
const CHUNK = 20;
const AA_CHUNK = 200;

const started = performance.now();
// The rollout's A/A row is the A/A runs themselves.
const isAaRollout = (i: number): boolean => CASES[i]?.effect === AA && CASES[i]?.plan === ROLLOUT;
const tasks: Task[] = [];
for (let from = 0; from < AA_RUNS; from += AA_CHUNK)
  tasks.push({ kind: 'aa', from, to: Math.min(AA_RUNS, from + AA_CHUNK) });
for (const [caseIndex] of CASES.entries()) {
  if (isAaRollout(caseIndex)) continue;
  if (ONLY !== null && !ONLY.test(CASES[caseIndex]?.name ?? '')) continue;
  for (let from = 0; from < STREAMS; from += CHUNK)
    tasks.push({ kind: 'case', caseIndex, from, to: Math.min(STREAMS, from + CHUNK) });
}

process.stderr.write(
  `bench:detect: ${CASES.length} cases × ${STREAMS} streams + ${AA_RUNS} A/A rollouts on ${WORKERS} thread(s)\n`,
);
let lastPercent = -1;
const results = await runAll(tasks, WORKERS, (done) => {
  const percent = Math.floor((100 * done) / tasks.length);
  if (percent >= lastPercent + 10) {
    lastPercent = percent;
    process.stderr.write(`  ${percent}% (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  }
});

const aaStreams: Outcome[][] = [];
const byCase = new Map<number, Outcome[][]>();
for (const [i, task] of tasks.entries()) {
  const streams = decode(results[i] ?? new Float64Array());
  if (task.kind === 'aa') aaStreams.push(...streams);
  else byCase.set(task.caseIndex, [...(byCase.get(task.caseIndex) ?? []), ...streams]);
}
const rateOf = (k: number): number =>
  aaStreams.filter((s) => s[k]?.rolledBack === true).length / aaStreams.length;
const aa: AaFigures = {
  runs: aaStreams.length,
  falseRollbackRate: rateOf(JUDGES.indexOf('augur')),
  baselines: Object.fromEntries(
    JUDGES.filter((j) => j !== 'augur').map((j) => [j, rateOf(JUDGES.indexOf(j))]),
  ),
};
const cases = CASES.map((c, i) => caseFigures(c, isAaRollout(i) ? aaStreams : (byCase.get(i) ?? [])));
const results_ = checks(ALPHA, aa, cases);
const durationS = (performance.now() - started) / 1000;

const out = writeResult('detect', {
  alpha: ALPHA,
  aa,
  cases,
  checks: results_,
  setup: { ...setup(), streamsPerCase: STREAMS, augurAaPromotedRate: aaPromoted(aaStreams) },
  durationS: Math.round(durationS),
  measuredAt: new Date().toISOString(),
});
process.stdout.write(table(ALPHA, aa, cases, results_));
process.stdout.write(`\n${durationS.toFixed(0)} s; wrote ${out}\n`);

function aaPromoted(streams: readonly Outcome[][]): number {
  return judgeFigures(streams.map((s) => s[JUDGES.indexOf('augur')] as Outcome)).promotedRate;
}
