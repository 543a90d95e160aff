import type { ApplicationConfig, ReleaseConfig } from '../config/types.js';
import type { SimRunResult } from '../sim/model.js';
import { runMonteCarlo } from '../sim/monte-carlo.js';
import type { ServiceProfile } from '../sim/profile.js';
import type { MetricMinute } from '../store/store.js';
import type { CalibratedRanges } from '../calibration/model-set.js';
import { LEARNED_FROM } from '../model/cold-start.js';
import { changedServices, buildModel } from './build-model.js';
import { calibrateEntry, correctMetrics } from './calibrate.js';
import { failurePoints } from './failure-points.js';
import {
  breachesOf,
  limitOf,
  metricsOf,
  MIN_REQUESTS_RANGE,
  overLimit,
  revisionStats,
  type MetricsAdjuster,
  valueOf,
} from './judge.js';
import { profileLookup, profilesFromHistory } from './profiles.js';
import type { Scenario, ScenarioFamily } from './scenarios.js';
import { buildScenarios, DEFAULT_WEIGHTS } from './scenarios.js';
import type { PredictedRangeEntry, ScenarioSummary, SimulationResult, UtilisationCurve } from './types.js';
import { PREDICTED_METRICS } from './types.js';
import { workloadFromHistory } from './workload.js';

export const MODEL_VERSION = 'sim-1';

export interface PredictOptions {
  /** Profiles measured in the sandbox (proposed and stable revisions of the changed services). */
  readonly profiles?: readonly ServiceProfile[];
  /** Stored per-minute history (all services); empty when the store has none. */
  readonly history?: readonly MetricMinute[];
  /** Entry rate assumed without (enough) history, req/s. */
  readonly defaultRatePerSec?: number;
  /** Entry rate to use whatever the history says (the peak is then this rate too), req/s. */
  readonly ratePerSec?: number;
  readonly weights?: Partial<Record<ScenarioFamily, number>>;
  /** Seeds per scenario. Default 4. */
  readonly seeds?: number;
  /** Base seed: seed i of a run is base + i. Default 1. */
  readonly seed?: number;
  /** Confidence of the predicted ranges. Default 0.9. */
  readonly confidence?: number;
  /** Simulated seconds per run of a load scenario at a large tier. Default 120. */
  readonly durationSec?: number;
  readonly workers?: number;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
  /** Turns the simulation's ranges into calibrated ones (the learned model or its cold start). */
  readonly calibration?: CalibratedRanges;
  /** When the prediction is made (epoch ms): the model's time-of-day features. Default 0. */
  readonly now?: number;
}

/** Load multiples of the utilisation sweep (nominal scenario, 100% tier). */
export const SWEEP = [0.25, 0.5, 1, 1.5, 2, 3, 4] as const;
const WARMUP_MS = 5_000;
/** A small tier's run is lengthened until the canary gets about this many requests (capped). */
const CANARY_REQUESTS = 1_000;
const MAX_DURATION_MS = 600_000;

interface Job {
  readonly key: string;
  readonly scenario: Scenario;
  readonly seed: number;
  /** Fraction; 0 = baseline. */
  readonly share: number;
  readonly loadMultiple: number;
}

/**
 * Predicts a release: simulates the application at every tier of the release (and at the baseline,
 * stable only) under every scenario and seed, then derives ranges, failure points and the risk
 * score. Deterministic for the same inputs.
 */
export async function predictRelease(
  app: ApplicationConfig,
  release: ReleaseConfig,
  options: PredictOptions = {},
): Promise<SimulationResult> {
  const history = options.history ?? [];
  const workload =
    options.ratePerSec === undefined
      ? workloadFromHistory(app, history, { ratePerSec: options.defaultRatePerSec ?? 50 })
      : workloadFromHistory(app, [], { ratePerSec: options.ratePerSec });
  const scenarios = buildScenarios(app, workload, options.weights ?? DEFAULT_WEIGHTS);
  const profiles = profileLookup(options.profiles ?? [], profilesFromHistory(app, history));
  const canaries = changedServices(release);
  const seedCount = Math.max(1, Math.floor(options.seeds ?? 4));
  const base = options.seed ?? 1;
  const seeds = Array.from({ length: seedCount }, (_, i) => base + i);
  const shares = [0, ...release.tiers.map((t) => t / 100)];
  const durationMs = (options.durationSec ?? 120) * 1000;
  const mix = workload.requestMix;

  const jobs: Job[] = [];
  for (const scenario of scenarios) {
    for (const seed of seeds) {
      for (const share of shares)
        jobs.push({ key: `${scenario.name}|${seed}|${share}`, scenario, seed, share, loadMultiple: 1 });
    }
  }
  const nominal = scenarios.find((s) => s.family === 'nominal') ?? scenarios[0];
  if (nominal !== undefined) {
    for (const m of SWEEP)
      jobs.push({ key: `sweep|${m}`, scenario: nominal, seed: base, share: 1, loadMultiple: m });
  }

  const durationFor = (job: Job): number => {
    if (job.key.startsWith('sweep|')) return durationMs / 2;
    if (job.scenario.family === 'spike') return Math.max(durationMs, 120_000);
    if (!job.scenario.load || job.share === 0) return durationMs / 2;
    // The least-called changed service decides how long a small tier must run.
    let slowest = Infinity;
    for (const service of canaries.keys()) {
      slowest = Math.min(slowest, job.scenario.ratePerSec * (mix[service] ?? 1) * job.share);
    }
    const needed = Number.isFinite(slowest) && slowest > 0 ? (CANARY_REQUESTS / slowest) * 1000 : durationMs;
    return Math.min(MAX_DURATION_MS, Math.max(durationMs, needed));
  };

  const results = await runMonteCarlo(
    jobs.map((job) => ({
      key: job.key,
      seed: job.seed,
      model: buildModel(app, canaries, job.share, job.scenario, profiles.lookup, {
        durationMs: durationFor(job),
        warmupMs: WARMUP_MS,
        loadMultiple: job.loadMultiple,
      }),
    })),
    {
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    },
  );
  const runs = new Map<string, SimRunResult>(results.map((r) => [r.key, r.result]));
  const run = (scenario: string, seed: number, share: number): SimRunResult | undefined =>
    runs.get(`${scenario}|${seed}|${share}`);

  // Which revision each service's figures describe: the canary for a changed service.
  const subjects = Object.keys(app.services).map((service) => ({
    service,
    revision: canaries.get(service) ?? app.services[service]?.stable ?? '',
  }));
  const confidence = options.confidence ?? 0.9;
  const lowQ = (1 - confidence) / 2;

  // With a learned model, limits are judged on the figures it expects production to show.
  const adjusterFor = (scenarioName: string, share: number): MetricsAdjuster | undefined => {
    const calibration = options.calibration;
    const scenario = scenarios.find((x) => x.name === scenarioName);
    // A model trained on fewer windows than a deployment waits for (the demo's) shapes the ranges
    // but does not change a judgement.
    if (calibration?.set === null || calibration === undefined || scenario === undefined) return undefined;
    if (calibration.set.rows < LEARNED_FROM) return undefined;
    return (service, revision, m, stats) => {
      const config = app.services[service];
      if (config === undefined) return m;
      const canary = canaries.get(service);
      const part = canary === undefined ? 1 : revision === canary ? share : 1 - share;
      return correctMetrics(calibration, m, {
        service,
        revision,
        at: options.now ?? 0,
        ratePerSec: scenario.ratePerSec * (mix[service] ?? 1) * part,
        replicas: config.resources.replicas,
        concurrency: config.resources.concurrency,
        cpuPerReplica: config.resources.cpu,
        profile: profiles.lookup(service, revision),
        stats,
      });
    };
  };

  const ranges: PredictedRangeEntry[] = [];
  for (const subject of subjects) {
    for (const metric of PREDICTED_METRICS) {
      for (const tier of release.tiers) {
        const share = tier / 100;
        const values: { value: number; weight: number }[] = [];
        let breachWeight = 0;
        let judgedWeight = 0;
        for (const scenario of scenarios) {
          for (const seed of seeds) {
            const r = run(scenario.name, seed, share);
            const m = r === undefined ? null : metricsOf(r, subject.service, subject.revision);
            if (m === null || r === undefined) continue;
            const w = scenario.weight / seeds.length;
            const adjust = adjusterFor(scenario.name, share);
            const stats = adjust === undefined ? null : revisionStats(r, subject.service, subject.revision);
            const judged =
              adjust === undefined || stats === null
                ? m
                : adjust(subject.service, subject.revision, m, stats);
            const over = overLimit(app, subject.service, metric, judged);
            if (over !== null) {
              judgedWeight += w;
              if (over) breachWeight += w;
            }
            const latency = metric.startsWith('latency');
            if (scenario.load && (!latency || m.requests >= MIN_REQUESTS_RANGE)) {
              values.push({ value: valueOf(m, metric), weight: scenario.weight });
            }
          }
        }
        if (values.length === 0) continue;
        const entry: PredictedRangeEntry = {
          service: subject.service,
          revision: subject.revision,
          metric,
          tier,
          low: weightedQuantile(values, lowQ),
          high: weightedQuantile(values, 1 - lowQ),
          limit: limitOf(app, subject.service, metric),
          breachProbability: judgedWeight > 0 ? breachWeight / judgedWeight : 0,
        };
        const calibration = options.calibration;
        const nominalRun = nominal === undefined ? undefined : run(nominal.name, seeds[0] ?? 1, share);
        const stats =
          nominalRun === undefined ? null : revisionStats(nominalRun, subject.service, subject.revision);
        const service = app.services[subject.service];
        if (calibration === undefined || stats === null || service === undefined || nominal === undefined) {
          ranges.push(entry);
          continue;
        }
        const changed = canaries.has(subject.service);
        const rate = nominal.ratePerSec * (mix[subject.service] ?? 1) * (changed ? share : 1);
        ranges.push(
          calibrateEntry(entry, calibration, {
            service: subject.service,
            revision: subject.revision,
            at: options.now ?? 0,
            ratePerSec: rate,
            replicas: service.resources.replicas,
            concurrency: service.resources.concurrency,
            cpuPerReplica: service.resources.cpu,
            profile: profiles.lookup(subject.service, subject.revision),
            stats,
          }),
        );
      }
    }
  }

  // A run of the release breaches when some limit is over at a tier that is not over at the
  // baseline of the same scenario and seed (common random numbers): the harm is the release's.
  // A changed service whose new revision's own figures breach in such a run, under nominal load in
  // at least half the seeds at some tier, is a culprit (one noisy run of a rare scenario is not).
  const ownBreaches = new Set<string>();
  const releaseBreaches = (scenario: string, seed: number, share: number): boolean => {
    const r = run(scenario, seed, share);
    if (r === undefined) return false;
    const baselineRun = run(scenario, seed, 0);
    const baseline =
      baselineRun === undefined ? new Set<string>() : breachesOf(app, baselineRun, adjusterFor(scenario, 0));
    const added = [...breachesOf(app, r, adjusterFor(scenario, share))].filter(
      (b) => !baseline.has(stableKey(b, app)),
    );
    for (const b of added) {
      const [service = '', revision = ''] = b.slice(0, b.lastIndexOf(':')).split('/');
      if (canaries.get(service) === revision) ownBreaches.add(`${service}|${scenario}|${share}|${seed}`);
    }
    return added.length > 0;
  };
  const scenarioSummaries: ScenarioSummary[] = [];
  let risk = 0;
  for (const scenario of scenarios) {
    const breached = seeds.filter((seed) =>
      release.tiers.some((tier) => releaseBreaches(scenario.name, seed, tier / 100)),
    ).length;
    const probability = breached / seeds.length;
    risk += scenario.weight * probability;
    scenarioSummaries.push({
      name: scenario.name,
      weight: scenario.weight,
      runs: seeds.length * shares.length,
      breachProbability: probability,
      description: scenario.description,
    });
  }
  const breachTier =
    nominal === undefined
      ? null
      : (release.tiers.find((tier) => {
          const count = seeds.filter((seed) => releaseBreaches(nominal.name, seed, tier / 100)).length;
          return count > 0 && count * 2 >= seeds.length;
        }) ?? null);

  const utilisation: UtilisationCurve[] = subjects.map((subject) => ({
    service: subject.service,
    revision: subject.revision,
    points: SWEEP.flatMap((m) => {
      const r = runs.get(`sweep|${m}`);
      const stats = r === undefined ? null : revisionStats(r, subject.service, subject.revision);
      return stats === null
        ? []
        : [{ loadMultiple: m, cpu: stats.cpuUtilisation, slots: stats.slotUtilisation }];
    }),
  }));

  const points = failurePoints({ app, release, scenarios, seeds, run, utilisation, canaries });
  const used = profiles.used();
  const result: Omit<SimulationResult, 'summary'> = {
    release: release.name,
    application: app.name,
    riskScore: clamp01(risk),
    confidence,
    tiers: release.tiers,
    ranges,
    failurePoints: points,
    scenarios: scenarioSummaries,
    seeds,
    utilisation,
    breachTier,
    culprits: [...canaries.keys()]
      .filter((service) =>
        release.tiers.some(
          (tier) =>
            2 *
              seeds.filter((seed) =>
                ownBreaches.has(`${service}|${nominal?.name ?? ''}|${tier / 100}|${seed}`),
              ).length >=
            seeds.length,
        ),
      )
      .sort(),
    modelVersion: options.calibration?.set?.id ?? MODEL_VERSION,
    provenance: {
      profiles: used,
      history: workload.history,
      nominalRatePerSec: workload.nominalRatePerSec,
      peakRatePerSec: workload.peakRatePerSec,
    },
  };
  return { ...result, summary: summarize(result) };
}

/**
 * A canary's breach is compared with the baseline's stable revision of the same service: the
 * question is whether the service is worse with the release than without it.
 */
function stableKey(breach: string, app: ApplicationConfig): string {
  const slash = breach.indexOf('/');
  const colon = breach.lastIndexOf(':');
  const service = breach.slice(0, slash);
  const stable = app.services[service]?.stable ?? '';
  return `${service}/${stable}${breach.slice(colon)}`;
}

/** The q-quantile of weighted values (the smallest value whose cumulative weight reaches q). */
export function weightedQuantile(values: readonly { value: number; weight: number }[], q: number): number {
  const sorted = [...values].filter((v) => Number.isFinite(v.value)).sort((a, b) => a.value - b.value);
  const total = sorted.reduce((a, v) => a + v.weight, 0);
  if (sorted.length === 0 || !(total > 0)) return Number.NaN;
  let cumulative = 0;
  for (const v of sorted) {
    cumulative += v.weight;
    if (cumulative >= q * total - 1e-12) return v.value;
  }
  return sorted[sorted.length - 1]?.value ?? Number.NaN;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function summarize(result: Omit<SimulationResult, 'summary'>): string {
  const risk = `risk ${(result.riskScore * 100).toFixed(0)}%`;
  const first =
    result.failurePoints.find((p) => p.tier !== null && p.scenario === 'nominal') ?? result.failurePoints[0];
  if (result.breachTier !== null && first !== undefined) {
    return `${first.detail}; ${risk}`;
  }
  if (result.breachTier !== null)
    return `a limit is breached at the ${result.breachTier}% tier under nominal load; ${risk}`;
  return `no limit breached at any tier under nominal load; ${risk}`;
}
