/**
 * npm run bench:predict — the prediction model's calibrated ranges on a generated production
 * history (src/bench/predict/generate.ts; docs/benchmarks.md): six services, 14 days of 60-s
 * windows (one every 10 min per service), each pairing the window simulation from the revision's
 * sandbox profile with what production showed. The model set is trained on the first 11 days; the
 * last 3 are walked forward (range, then observe; ACI per service × metric, as the product runs it)
 * and scored against the simulation-only ranges and
 * a naive band (the past 24 h's 5%–95% spread); 2 more days follow in which production shifts
 * (latencies × 1.5, noise × 1.5). Prints each figure beside its target; writes
 * bench/results/predict.json. For information, an oracle (src/bench/predict/oracle.ts): the ranges
 * of a predictor that knows each sampled held-out window's state but not its own noise.
 * Deterministic: every draw comes from seeded SeededRandoms.
 */
import { availableParallelism, cpus } from 'node:os';
import { MODEL_METRICS } from '../calibration/features.js';
import type { ModelMetric } from '../calibration/features.js';
import { CalibratedRanges, trainModelSet } from '../calibration/model-set.js';
import {
  coverageOf,
  meanWidth,
  PastSpread,
  Scoreboard,
  WIDE_ERROR_RATE,
  WIDE_FACTOR,
  walkForward,
  widthRatio,
} from './predict/evaluate.js';
import type { ScoredPair, SliceTally, Variant } from './predict/evaluate.js';
import { generateHistory } from './predict/generate.js';
import { oracleCoverage, oracleSlices, oracleWidthRatio } from './predict/oracle.js';
import type { OracleColumn, OracleSlice } from './predict/oracle.js';
import { checks, fixed, table } from './predict/report.js';
import { writeResult } from './results.js';
import { BENCH_WORLD, DAY_MS, HELD_OUT_DAYS, HISTORY_DAYS, HISTORY_START } from './predict/world.js';

const say = (line: string): void => void process.stderr.write(`bench:predict: ${line}\n`);
const started = performance.now();
const watchdog = setTimeout(() => {
  say('did not finish within 10 minutes; giving up');
  process.exit(2);
}, 10 * 60_000);
watchdog.unref();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const round = (x: number, digits = 4): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

// ---- history -----------------------------------------------------------------------------------
/** BENCH_SEED: another world from the same generator (the default is the recorded run's). */
const seedKnob = process.env['BENCH_SEED'];
if (seedKnob !== undefined && !Number.isInteger(Number(seedKnob)))
  throw new RangeError('BENCH_SEED must be an integer');
const world = seedKnob === undefined ? BENCH_WORLD : { ...BENCH_WORLD, seed: Number(seedKnob) };
const heldOutFrom = HISTORY_START + (HISTORY_DAYS - HELD_OUT_DAYS) * DAY_MS;
const shiftFrom = world.shiftFrom ?? HISTORY_START + HISTORY_DAYS * DAY_MS;
say(
  `generating ${world.days} days × ${world.services} services, one 60-s window every ${world.cadenceMs / 60_000} min`,
);
let lastTenth = 0;
const history = generateHistory(world, (done) => {
  if (Math.floor(done * 10) > lastTenth) {
    lastTenth = Math.floor(done * 10);
    say(`  generated ${(done * 100).toFixed(0)}% (${elapsed()})`);
  }
});
const rows = history.rows;
const firstHeldOut = rows.findIndex((r) => r.at >= heldOutFrom);
const firstShifted = rows.findIndex((r) => r.at >= shiftFrom);
if (firstHeldOut <= 0 || firstShifted <= firstHeldOut)
  throw new Error('the history does not split as planned');
const training = rows.slice(0, firstHeldOut);
const heldOutRows = firstShifted - firstHeldOut;
const shiftedRows = rows.length - firstShifted;
say(`${rows.length} rows: ${training.length} to train, ${heldOutRows} held out, ${shiftedRows} shifted`);

// ---- training ----------------------------------------------------------------------------------
say(`training one CQR model per metric on ${training.length} rows (this thread)`);
const t0 = performance.now();
const set = await trainModelSet(training, { now: heldOutFrom, worker: false });
const trainSeconds = (performance.now() - t0) / 1000;
if (set === null) throw new Error('no metric had enough rows to train');
say(`trained ${Object.keys(set.metrics).length} models in ${trainSeconds.toFixed(1)} s`);

// ---- walk forward ------------------------------------------------------------------------------
const variants = {
  aci: new CalibratedRanges(set),
  static: new CalibratedRanges(set),
  simOnly: new CalibratedRanges(null),
  naive: new PastSpread(DAY_MS),
};
for (const ranges of [variants.aci, variants.static, variants.simOnly]) ranges.remember(training);
for (const row of training) variants.naive.add(row);
const progress = (what: string) => (done: number) =>
  say(`  ${what} ${(done * 100).toFixed(0)}% (${elapsed()})`);
say(`held-out walk over ${heldOutRows} rows (range, then observe)`);
const heldOut = new Scoreboard();
// The oracle's windows: every ORACLE_STRIDE-th cadence step of the held-out days, all services (the
// stride does not divide a day's steps, so the sampled times of day move from day to day).
const positiveKnob = (name: string, fallback: number): number => {
  const knob = process.env[name];
  if (knob === undefined) return fallback;
  if (!(Number.isInteger(Number(knob)) && Number(knob) >= 1))
    throw new RangeError(`${name} must be a positive integer`);
  return Number(knob);
};
/** BENCH_ORACLE_STRIDE, BENCH_ORACLE_DRAWS: the oracle's subsample and Monte Carlo draws per window. */
const ORACLE_STRIDE = positiveKnob('BENCH_ORACLE_STRIDE', 15);
const ORACLE_DRAWS = positiveKnob('BENCH_ORACLE_DRAWS', 200);
const firstHeldOutStep = history.windows[firstHeldOut]?.windowIndex ?? 0;
const oraclePairs: ScoredPair[] = [];
walkForward(rows, firstHeldOut, firstShifted, variants, heldOut, progress('held out'), (pair) => {
  const step = history.windows[pair.index]?.windowIndex ?? -1;
  if ((step - firstHeldOutStep) % ORACLE_STRIDE === 0) oraclePairs.push(pair);
});
const aciAfterHeldOut = variants.aci.aciStates();
say(
  `shifted walk over ${shiftedRows} rows (latencies × ${world.shiftLatencyFactor}, noise × ${world.shiftNoiseFactor})`,
);
// Two parts, to see how ACI recovers: the segment's first third (it needs misses to react), the rest.
const third = firstShifted + Math.floor(shiftedRows / 3);
const shiftedEarly = new Scoreboard();
const shiftedLate = new Scoreboard();
walkForward(rows, firstShifted, third, variants, shiftedEarly, progress('shifted (first third)'));
walkForward(rows, third, rows.length, variants, shiftedLate, progress('shifted (rest)'));
const shifted = Scoreboard.merged([shiftedEarly, shiftedLate]);

// ---- oracle ------------------------------------------------------------------------------------
say(
  `oracle: ${ORACLE_DRAWS} redraws of the noise of every ${ORACLE_STRIDE}th held-out step (${new Set(oraclePairs.map((p) => p.index)).size} windows)`,
);
const t1 = performance.now();
const oracleRun = oracleSlices({
  history,
  pairs: oraclePairs,
  draws: ORACLE_DRAWS,
  naiveCoverageBySlice: new Map(
    heldOut.all().map((s) => [`${s.service}|${s.metric}`, coverageOf([s.by.naive])]),
  ),
  naiveCoverage: coverageOf(heldOut.all().map((s) => s.by.naive)),
  onProgress: progress('oracle'),
});
const oracleSeconds = (performance.now() - t1) / 1000;

// ---- figures -----------------------------------------------------------------------------------
const slices = heldOut.all();
const tallies = (list: readonly SliceTally[], v: Variant) => list.map((s) => s.by[v]);
const ofMetrics = (list: readonly SliceTally[], metrics: readonly ModelMetric[]) =>
  list.filter((s) => metrics.includes(s.metric));
const LATENCY: readonly ModelMetric[] = ['latencyP50Ms', 'latencyP95Ms', 'latencyP99Ms'];

const coverage90 = coverageOf(tallies(slices, 'aci'));
const sliceCoverage = slices.map((s) => ({
  slice: `${s.service} × ${s.metric}`,
  coverage: coverageOf([s.by.aci]),
}));
const worst = sliceCoverage.reduce((a, b) => (b.coverage < a.coverage ? b : a));
const vsSimOnly = widthRatio(slices, 'aci', 'simOnly');
const vsNaive = widthRatio(slices, 'aci', 'naive');
const shiftLatency = ofMetrics(shifted.all(), LATENCY);
const shiftCoverage = {
  aci: coverageOf(tallies(shiftLatency, 'aci')),
  static: coverageOf(tallies(shiftLatency, 'static')),
};
const peakMemoryMB = process.resourceUsage().maxRSS / 1024;

const perMetric = Object.fromEntries(
  MODEL_METRICS.map((metric) => {
    const list = ofMetrics(slices, [metric]);
    const variantFigures = (v: Variant) => ({
      coverage: round(coverageOf(tallies(list, v))),
      meanWidthPerService: Object.fromEntries(list.map((s) => [s.service, round(meanWidth(s.by[v]), 6)])),
    });
    return [
      metric,
      {
        aci: variantFigures('aci'),
        static: variantFigures('static'),
        simOnly: variantFigures('simOnly'),
        naive: variantFigures('naive'),
        widthVsSimOnly: round(widthRatio(list, 'aci', 'simOnly').ratio),
        widthVsNaive: round(widthRatio(list, 'aci', 'naive').ratio),
        validationAtTraining: set.metrics[metric]?.validation ?? null,
      },
    ];
  }),
);
const sliceTable = slices.map((s) => ({
  service: s.service,
  metric: s.metric,
  n: s.by.aci.n,
  coverage: {
    aci: round(coverageOf([s.by.aci])),
    static: round(coverageOf([s.by.static])),
    simOnly: round(coverageOf([s.by.simOnly])),
    naive: round(coverageOf([s.by.naive])),
  },
  widthVsSimOnly: round(meanWidth(s.by.aci) / meanWidth(s.by.simOnly)),
  widthVsNaive: round(meanWidth(s.by.aci) / meanWidth(s.by.naive)),
}));
const shiftDetail = {
  rows: shiftedRows,
  latencyPairs: shiftLatency.reduce((a, s) => a + s.by.aci.n, 0),
  allMetrics: {
    aci: round(coverageOf(tallies(shifted.all(), 'aci'))),
    static: round(coverageOf(tallies(shifted.all(), 'static'))),
    simOnly: round(coverageOf(tallies(shifted.all(), 'simOnly'))),
    naive: round(coverageOf(tallies(shifted.all(), 'naive'))),
  },
  latency: {
    simOnly: round(coverageOf(tallies(shiftLatency, 'simOnly'))),
    naive: round(coverageOf(tallies(shiftLatency, 'naive'))),
  },
  latencyByMetric: Object.fromEntries(
    LATENCY.map((m) => [
      m,
      {
        aci: round(coverageOf(tallies(ofMetrics(shifted.all(), [m]), 'aci'))),
        static: round(coverageOf(tallies(ofMetrics(shifted.all(), [m]), 'static'))),
      },
    ]),
  ),
  aciLatencyFirstThird: round(coverageOf(tallies(ofMetrics(shiftedEarly.all(), LATENCY), 'aci'))),
  aciLatencyLastTwoThirds: round(coverageOf(tallies(ofMetrics(shiftedLate.all(), LATENCY), 'aci'))),
  // Per latency metric: the mean over services of (ACI mean width while shifted / while held out).
  aciWidthShiftedOverHeldOut: Object.fromEntries(
    LATENCY.map((m) => {
      const before = new Map(ofMetrics(slices, [m]).map((s) => [s.service, meanWidth(s.by.aci)]));
      const ratios = ofMetrics(shifted.all(), [m]).map(
        (s) => meanWidth(s.by.aci) / (before.get(s.service) ?? Number.NaN),
      );
      return [m, round(ratios.reduce((a, b) => a + b, 0) / ratios.length)];
    }),
  ),
  wideRanges: { ...shifted.wide },
};
const oracleBy = (list: readonly OracleSlice[]) => {
  const figures = (column: OracleColumn) => ({
    widthVsNaive: round(oracleWidthRatio(list, column)),
    coverage: round(oracleCoverage(list, column)),
  });
  return {
    oracle: figures('oracle'),
    shortest: figures('shortest'),
    matchedPerSlice: figures('matched'),
    matchedPooled: figures('pooled'),
    aci: figures('aci'),
    naiveCoverage: round(oracleCoverage(list, 'naive')),
  };
};
const oracleAll = oracleBy(oracleRun.slices);
const oracleJson = {
  oracleWidthVsNaive: oracleAll.oracle.widthVsNaive,
  coverage: oracleAll.oracle.coverage,
  shortest: oracleAll.shortest,
  perMetric: Object.fromEntries(
    MODEL_METRICS.map((m) => [m, oracleBy(oracleRun.slices.filter((s) => s.metric === m))]),
  ),
  matchedToNaiveCoverage: {
    perSlice: oracleAll.matchedPerSlice,
    pooled: { level: round(coverageOf(heldOut.all().map((s) => s.by.naive))), ...oracleAll.matchedPooled },
  },
  sameWindows: {
    aciWidthVsNaive: oracleAll.aci.widthVsNaive,
    aciCoverage: oracleAll.aci.coverage,
    naiveCoverage: oracleAll.naiveCoverage,
  },
  draws: ORACLE_DRAWS,
  stride: ORACLE_STRIDE,
  windows: oracleRun.windows,
  pairs: oracleRun.slices.reduce((a, s) => a + s.oracle.n, 0),
  skippedPairs: oracleRun.skipped,
  seconds: round(oracleSeconds, 1),
  slices: oracleRun.slices.map((s) => ({
    service: s.service,
    metric: s.metric,
    n: s.oracle.n,
    oracleWidthVsNaive: round(s.oracle.widthSum / s.naive.widthSum),
    shortestWidthVsNaive: round(s.shortest.widthSum / s.naive.widthSum),
    matchedWidthVsNaive: round(s.matched.widthSum / s.naive.widthSum),
    aciWidthVsNaive: round(s.aci.widthSum / s.naive.widthSum),
    coverage: { oracle: round(s.oracle.covered / s.oracle.n), naive: round(s.naive.covered / s.naive.n) },
  })),
  definitions: {
    oracle:
      "information, not a target: per held-out window, the 5%–95% range of each metric over redraws of only the window's own noise (service-time samples, the production queueing simulation: arrivals, resampling, error draws; GC/tail noise, jitter, CPU noise), its state (load, replicas, utilisation, drift, revision statistics, warm-up age, neighbour/burst episodes) as generated",
    oracleWidthVsNaive:
      'per service × metric, mean oracle width / mean naive-band width on the same (row, metric) pairs; plain mean over the slices (as widthVsNaive)',
    coverage: "share of the sampled pairs whose observed value is inside the oracle's range",
    matchedToNaiveCoverage:
      "the oracle's central range at the naive band's coverage instead of 90%: perSlice at each slice's naive coverage over the whole held-out walk, pooled at the naive band's pooled coverage (level)",
    sameWindows: "the learned (ACI) ranges and the naive band on the oracle's sampled pairs",
    sample: 'every `stride`-th 10-min step of the held-out days (all services), `draws` redraws per window',
  },
};
const headline = {
  coverage90,
  worstSliceCoverage: worst.coverage,
  worstSlice: worst.slice,
  widthVsNaive: vsNaive.ratio,
  shiftAci: shiftCoverage.aci,
};
const results = checks(headline);
const durationS = (performance.now() - started) / 1000;

const json = {
  heldOut: heldOutRows,
  coverage90: round(coverage90),
  worstSliceCoverage: round(worst.coverage),
  widthVsSimOnly: round(vsSimOnly.ratio),
  widthVsNaive: round(vsNaive.ratio),
  shiftCoverage: { aci: round(shiftCoverage.aci), static: round(shiftCoverage.static) },
  trainSeconds: round(trainSeconds, 2),
  peakMemoryMB: round(peakMemoryMB, 1),
  oracle: oracleJson,
  detail: {
    definitions: {
      heldOut: 'held-out windows (rows); each scores up to 5 metrics',
      coverage90:
        'share of held-out (row, metric) pairs inside the learned range with ACI (range before observe)',
      worstSliceCoverage: 'lowest coverage of one service × metric over the held-out rows (ACI)',
      widthVsSimOnly:
        'per service × metric, mean learned (ACI) width / mean simulation-only width on the same pairs; plain mean over the slices',
      widthVsNaive:
        'per service × metric, mean learned (ACI) width / mean naive-band width (5%–95% of that service × metric over the past 24 h); plain mean over the slices',
      shiftCoverage:
        'coverage of the three latency metrics (those the shift touches) over the shifted days; aci continues from the held-out walk, static never observes',
      wideRanges: `learned ranges (aci, static) that are implausibly wide: not finite, latency/CPU high > ${WIDE_FACTOR} × low, or error-rate width > ${WIDE_ERROR_RATE}`,
    },
    worstSlice: worst.slice,
    heldOutPairs: slices.reduce((a, s) => a + s.by.aci.n, 0),
    staticCoverage: round(coverageOf(tallies(slices, 'static'))),
    simOnlyCoverage: round(coverageOf(tallies(slices, 'simOnly'))),
    naiveCoverage: round(coverageOf(tallies(slices, 'naive'))),
    latencyCoverage: round(coverageOf(tallies(ofMetrics(slices, LATENCY), 'aci'))),
    widthVsSimOnlySlices: vsSimOnly.slices,
    widthVsNaiveSlices: vsNaive.slices,
    widthVsNaiveSkipped: vsNaive.skipped,
    wideHeldOutRanges: { ...heldOut.wide },
    perMetric,
    slices: sliceTable,
    shift: shiftDetail,
    aciAlphaAfterHeldOut: Object.fromEntries(
      Object.entries(aciAfterHeldOut).map(([m, s]) => [
        m,
        { below: round(s.below.alphaT), above: round(s.above.alphaT) },
      ]),
    ),
    world: {
      seed: world.seed,
      services: history.services,
      revisions: history.revisions,
      days: world.days,
      cadenceMinutes: world.cadenceMs / 60_000,
      rows: rows.length,
      trainingRows: training.length,
      heldOutFrom: new Date(heldOutFrom).toISOString(),
      shiftFrom: new Date(shiftFrom).toISOString(),
      shift: { latencyFactor: world.shiftLatencyFactor, noiseFactor: world.shiftNoiseFactor },
    },
    model: {
      id: set.id,
      rowsPerMetric: Object.fromEntries(Object.entries(set.metrics).map(([m, v]) => [m, v.rows])),
    },
    checks: results,
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version },
    durationS: round(durationS, 1),
    measuredAt: new Date().toISOString(),
  },
};
const out = writeResult('predict', json);

// ---- print -------------------------------------------------------------------------------------
const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : 'n/a');
process.stdout.write(
  `${rows.length} windows of ${history.services.length} services over ${world.days} days; trained on ${training.length}, ` +
    `held out ${heldOutRows} (${json.detail.heldOutPairs} row × metric pairs), then ${shiftedRows} shifted\n\n`,
);
process.stdout.write(
  `${table([
    ['metric', 'ACI', 'static', 'sim-only', 'naive 24h', 'width/sim-only', 'width/naive'],
    ...MODEL_METRICS.map((m) => {
      const f = perMetric[m];
      return [
        m,
        pct(f?.aci.coverage ?? NaN),
        pct(f?.static.coverage ?? NaN),
        pct(f?.simOnly.coverage ?? NaN),
        pct(f?.naive.coverage ?? NaN),
        fixed(f?.widthVsSimOnly ?? NaN, 2),
        fixed(f?.widthVsNaive ?? NaN, 2),
      ];
    }),
    [
      'all',
      pct(coverage90),
      pct(json.detail.staticCoverage),
      pct(json.detail.simOnlyCoverage),
      pct(json.detail.naiveCoverage),
      fixed(vsSimOnly.ratio, 2),
      fixed(vsNaive.ratio, 2),
    ],
  ])}\n\n`,
);
process.stdout.write(
  `oracle (information, not a target): knows each held-out window's state, not its own noise; ${oracleJson.draws} redraws ` +
    `of ${oracleJson.windows} windows (every ${oracleJson.stride}th step, ${oracleJson.pairs} pairs)\n`,
);
process.stdout.write(
  `${table([
    [
      'metric',
      'oracle cov',
      'oracle width/naive',
      'shortest 90%',
      'at naive cov (slice)',
      'at naive cov (pooled)',
      'ACI width/naive',
      'naive cov',
    ],
    ...[...MODEL_METRICS.map((m) => [m, oracleJson.perMetric[m]] as const), ['all', oracleAll] as const].map(
      ([m, f]) => [
        m,
        pct(f?.oracle.coverage ?? NaN),
        fixed(f?.oracle.widthVsNaive ?? NaN, 2),
        `${fixed(f?.shortest.widthVsNaive ?? NaN, 2)} (${pct(f?.shortest.coverage ?? NaN)})`,
        `${fixed(f?.matchedPerSlice.widthVsNaive ?? NaN, 2)} (${pct(f?.matchedPerSlice.coverage ?? NaN)})`,
        `${fixed(f?.matchedPooled.widthVsNaive ?? NaN, 2)} (${pct(f?.matchedPooled.coverage ?? NaN)})`,
        fixed(f?.aci.widthVsNaive ?? NaN, 2),
        pct(f?.naiveCoverage ?? NaN),
      ],
    ),
  ])}\n`,
);
process.stdout.write(
  `oracleWidthVsNaive ${fixed(oracleJson.oracleWidthVsNaive, 3)} at coverage ${pct(oracleJson.coverage)} ` +
    `(shortest ranges ${fixed(oracleJson.shortest.widthVsNaive, 3)}): about the least width/naive a predictor keeping 90% ` +
    `in every window could reach on this world; ${oracleJson.seconds} s\n\n`,
);
const lowest = [...sliceCoverage].sort((a, b) => a.coverage - b.coverage).slice(0, 5);
process.stdout.write(
  `lowest slices (ACI): ${lowest.map((s) => `${s.slice} ${pct(s.coverage)}`).join(', ')}\n`,
);
process.stdout.write(
  `shift (latency metrics): ACI ${pct(shiftCoverage.aci)} (first third ${pct(shiftDetail.aciLatencyFirstThird)}, ` +
    `rest ${pct(shiftDetail.aciLatencyLastTwoThirds)}), static ${pct(shiftCoverage.static)}, sim-only ${pct(shiftDetail.latency.simOnly)}; ` +
    `all metrics ACI ${pct(shiftDetail.allMetrics.aci)}, static ${pct(shiftDetail.allMetrics.static)}\n`,
);
process.stdout.write(
  `implausibly wide learned ranges (high > ${WIDE_FACTOR} × low, error-rate width > ${WIDE_ERROR_RATE}): ` +
    `held out ACI ${heldOut.wide.aci}, static ${heldOut.wide.static}; shifted ACI ${shifted.wide.aci}, static ${shifted.wide.static}\n`,
);
process.stdout.write(
  `train ${trainSeconds.toFixed(1)} s; peak RSS ${peakMemoryMB.toFixed(0)} MB; widthVsSimOnly ${fixed(vsSimOnly.ratio, 3)}\n\n`,
);
process.stdout.write(
  `${table([['figure', 'value', 'target', ''], ...results.map((c) => [c.name, c.value, c.target, c.pass ? 'PASS' : 'MISS'])])}\n`,
);
process.stdout.write(`\n${durationS.toFixed(0)} s; wrote ${out}\n`);
