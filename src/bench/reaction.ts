/**
 * npm run bench:reaction — real processes: the echo service's stable and canary under steady load
 * through the builtin router, the data plane and the rollout controller in this process with a
 * 200 ms monitoring interval. In each trial the canary is switched to fail every request at a
 * known instant; the trial measures until the router's weight 0 is confirmed (`weight-applied`).
 * Two modes alternate: the controller as it is (complete windows + the hard guard on the current
 * second) and complete windows only. Target: p99 ≤ 1,000 ms. Writes bench/results/reaction.json.
 * Knobs: BENCH_TRIALS (per mode, default 24), BENCH_RATE (req/s, default 400).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sequentialAnalysis } from '../controller/analysis/sequential.js';
import type { ControlledPlane } from '../controller/controller.js';
import { RolloutController } from '../controller/controller.js';
import { DEFAULT_SETTINGS } from '../controller/core/release.js';
import { StableBaselineSource } from '../controller/predicted/source.js';
import { systemClock } from '../core/clock.js';
import { SeededRandom } from '../core/random.js';
import { DataPlane } from '../server/dataplane.js';
import { CANARY_PERCENT, echoApplication, INTERVAL } from './reaction/app.js';
import { steadyLoad } from './reaction/load.js';
import { completeWindowsOnly } from './reaction/plane.js';
import { EventWaiter, runTrial } from './reaction/trial.js';
import type { TrialResult } from './reaction/trial.js';
import { writeResult } from './results.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 24);
const RATE = Number(process.env.BENCH_RATE ?? 400);
const TARGET_P99_MS = 1000;
/** Every trial ends well within this; the whole run is bounded by it. */
const DEADLINE_MS = 300_000;
const MODES = ['current-second guard', 'complete windows only'] as const;

if (!(Number.isInteger(TRIALS) && TRIALS >= 1))
  throw new RangeError('BENCH_TRIALS must be a whole number ≥ 1');

const nearestRank = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1] ?? Number.NaN;

function summary(results: readonly TrialResult[]) {
  const ms = results.map((r) => r.reactionMs).sort((a, b) => a - b);
  const decidedBy: Record<string, number> = {};
  for (const r of results) decidedBy[r.decidedBy] = (decidedBy[r.decidedBy] ?? 0) + 1;
  return {
    trials: ms.length,
    p50Ms: nearestRank(ms, 0.5),
    p99Ms: nearestRank(ms, 0.99),
    maxMs: ms[ms.length - 1] ?? Number.NaN,
    decisionP50Ms: nearestRank(
      results.map((r) => r.decisionMs).sort((a, b) => a - b),
      0.5,
    ),
    decidedBy,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'augur-bench-reaction-'));
const started = Date.now();
const { app, release } = await echoApplication(dir);
const plane = await DataPlane.start({ app });
const waiter = new EventWaiter();
const controllerFor = (p: ControlledPlane): RolloutController =>
  new RolloutController({
    store: plane.store,
    plane: p,
    analysis: (r) => sequentialAnalysis(app, r),
    prediction: new StableBaselineSource(p.provider),
    clock: systemClock,
    // Keep the canary process between trials: each trial heals it and routes to it again.
    settings: { ...DEFAULT_SETTINGS, stopCanaryAfterMs: 3_600_000 },
    onEvent: waiter.onEvent,
  });
const controllers = [controllerFor(plane), controllerFor(completeWindowsOnly(plane, systemClock))];
const port = plane.router.address('echo').port;
const load = steadyLoad(port, RATE, DEADLINE_MS);
const random = new SeededRandom(20_261_201);
const results: TrialResult[] = [];
let failure: Error | null = null;
try {
  process.stderr.write(
    `bench:reaction: ${TRIALS} trials per mode, ${RATE} req/s, canary at ${CANARY_PERCENT}%, interval ${INTERVAL}\n`,
  );
  for (let i = 0; i < 2 * TRIALS && Date.now() - started < DEADLINE_MS; i++) {
    const mode = MODES[i % 2] ?? MODES[0];
    const controller = controllers[i % 2] ?? controllers[0];
    if (controller === undefined) break;
    const r = await runTrial({
      plane,
      controller,
      waiter,
      template: release,
      name: `reaction-${i}`,
      mode,
      random,
    });
    results.push(r);
    process.stderr.write(
      `  ${String(i + 1).padStart(2)} ${mode.padEnd(22)} ${String(r.reactionMs).padStart(5)} ms (RED after ${r.decisionMs} ms by ${r.decidedBy}; switch at +${r.phaseMs} ms in its second)\n`,
    );
  }
} catch (error) {
  failure = error instanceof Error ? error : new Error(String(error));
} finally {
  const sent = await load.stop();
  for (const c of controllers) await c.close();
  await plane.stop();
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`  load: ${sent.sent} requests, ${sent.failed} failed (the canary's, by design)\n`);
}
if (failure !== null) throw failure;

const guarded = summary(results.filter((r) => r.mode === MODES[0]));
const windowsOnly = summary(results.filter((r) => r.mode === MODES[1]));
const pass = guarded.p99Ms <= TARGET_P99_MS && guarded.trials >= 20;
const out = writeResult('reaction', {
  trials: guarded.trials,
  p50Ms: guarded.p50Ms,
  p99Ms: guarded.p99Ms,
  maxMs: guarded.maxMs,
  decidedBy: guarded.decidedBy,
  target: { p99Ms: TARGET_P99_MS },
  pass,
  completeWindowsOnly: windowsOnly,
  setup: {
    metrics: 'builtin (1 s windows)',
    load: `${RATE} req/s through the builtin router, 1,000 request keys`,
    canary: `${CANARY_PERCENT}% (about ${(RATE * CANARY_PERCENT) / 100} req/s), echo fixture switched by GET /fail`,
    monitoringInterval: INTERVAL,
    measured: 'canary switch (its Date.now()) → weight-applied event with weight 0 (router confirmed)',
  },
  samplesMs: results.map((r) => ({ mode: r.mode, ms: r.reactionMs, by: r.decidedBy })),
  measuredAt: new Date().toISOString(),
});
const line = (name: string, s: ReturnType<typeof summary>): string =>
  `${name.padEnd(24)} ${String(s.trials).padStart(6)} ${String(s.p50Ms).padStart(7)} ${String(s.p99Ms).padStart(7)} ${String(s.maxMs).padStart(7)}   ${Object.entries(
    s.decidedBy,
  )
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`;
process.stdout.write(
  [
    `mode                     trials  p50 ms  p99 ms  max ms   decided by`,
    line(MODES[0], guarded),
    line(MODES[1], windowsOnly),
    `${pass ? 'PASS' : 'FAIL'}  p99 from failing canary to weight 0 ≤ ${TARGET_P99_MS} ms (with the current-second guard): ${guarded.p99Ms} ms over ${guarded.trials} trials`,
    `wrote ${out}`,
    '',
  ].join('\n'),
);
