/**
 * A generated production history for bench:predict: per service, one 60-s window every `cadenceMs`,
 * each a ModelRow pairing what the simulator predicts from the revision's sandbox profile with what
 * "production" showed. Production is itself a queueing simulation of the same station, plus effects
 * the window simulation does not have (docs/benchmarks.md lists them). Deterministic for a seed.
 * Each window's state is fixed before its own noise is drawn (WindowState), so the noise can be
 * drawn again apart from the history (redrawWindow).
 */
import { SeededRandom } from '../../core/random.js';
import { buildFeatures, simulatedValues } from '../../calibration/features.js';
import type { ModelRow, WindowProfile } from '../../calibration/features.js';
import { RecentResiduals } from '../../calibration/recent.js';
import { simulateWindow } from '../../calibration/simulate-window.js';
import type { SimModel } from '../../sim/model.js';
import { simulate } from '../../sim/simulate.js';
import { Draws, mixSeed, sortedQuantile } from './sample.js';
import { DAY_MS, HISTORY_START, HOUR_MS, SERVICES, WINDOW_MS } from './world.js';
import type { ServiceSpec, WorldOptions } from './world.js';

/** Service-time samples behind one production window (resampled by the simulator). */
const PRODUCTION_SAMPLES = 2_000;
/** Requests a sandbox measurement of a revision's profile is based on. */
const SANDBOX_REQUESTS = 1_000;
/** The production station runs this long before its measured minute, so queues are in steady state. */
const PRODUCTION_WARMUP_MS = 10_000;

interface Revision {
  readonly name: string;
  readonly start: number;
  readonly p50Ms: number;
  readonly sigma: number;
  readonly cpuMsPerRequest: number;
  readonly errorRate: number;
  readonly missProbability: number;
  /** Cache warm-up: misses × (1 + coldBoost · e^(−age/τ)), errors × (1 + 2 e^(−age/τ)). */
  readonly coldBoost: number;
  readonly warmTauHours: number;
  /** What the sandbox measured before the revision served (the simulator's input). */
  readonly profile: WindowProfile;
  readonly profileErrorRate: number;
}

interface Episode {
  readonly from: number;
  readonly to: number;
  readonly level: number;
}

/** What the generator knew about a row beyond the row itself (for diagnostics, never a feature). */
export interface RowTruth {
  readonly serviceIndex: number;
  /** CPU busy share of the allocation, production's own. */
  readonly cpuUtilisation: number;
  readonly neighbour: boolean;
  readonly errorBurst: boolean;
  readonly shifted: boolean;
  readonly revisionAgeHours: number;
}

export interface History {
  readonly options: WorldOptions;
  /** Oldest first (ties by service order). */
  readonly rows: readonly ModelRow[];
  readonly truth: readonly RowTruth[];
  /** Each row's window state (redrawWindow draws the row's window again from it). */
  readonly windows: readonly WindowState[];
  readonly services: readonly string[];
  /** Revisions per service that served within the history. */
  readonly revisions: Readonly<Record<string, number>>;
}

/** A revision's service time: log-normal body, cache misses `missFactor` (× 0.7–1.5) slower. */
function serviceTime(
  d: Draws,
  spec: ServiceSpec,
  p50Ms: number,
  sigma: number,
  missProbability: number,
): number {
  const body = p50Ms * Math.exp(sigma * d.normal());
  return d.chance(missProbability) ? body * spec.missFactor * d.uniform(0.7, 1.5) : body;
}

function revisionsOf(d: Draws, spec: ServiceSpec, end: number): Revision[] {
  const out: Revision[] = [];
  let start = HISTORY_START - d.uniform(0, 30) * HOUR_MS;
  let p50Ms = spec.p50Ms;
  let sigma = spec.sigma;
  let cpuMs = spec.cpuMsPerRequest;
  let errorRate = spec.errorRate;
  let missProbability = spec.missProbability;
  // Bounded: each revision lasts at least 20 h.
  for (let k = 1; start < end && k <= 1_000; k++) {
    if (k > 1) {
      // Each revision differs from the last, but regressions get fixed: the log of each property
      // reverts halfway to the service's own level before its step (stationary sd ≈ 1.15 × step).
      const step = (now: number, base: number, sd: number): number =>
        Math.exp(Math.log(base) + 0.5 * (Math.log(now) - Math.log(base)) + sd * d.normal());
      p50Ms = step(p50Ms, spec.p50Ms, 0.12);
      sigma = Math.min(1.1, Math.max(0.4, step(sigma, spec.sigma, 0.06)));
      cpuMs = step(cpuMs, spec.cpuMsPerRequest, 0.1);
      errorRate = Math.min(0.02, Math.max(1e-4, step(errorRate, spec.errorRate, 0.35)));
      missProbability = Math.min(0.1, Math.max(0.002, step(missProbability, spec.missProbability, 0.2)));
    }
    // The sandbox: SANDBOX_REQUESTS requests on a warm cache with a narrower request mix (half the
    // misses), no contention, no neighbours; its sample quantiles are the profile.
    const sandbox = Float64Array.from({ length: SANDBOX_REQUESTS }, () =>
      serviceTime(d, spec, p50Ms, sigma, missProbability / 2),
    ).sort();
    out.push({
      name: `${spec.name}-r${k}`,
      start,
      p50Ms,
      sigma,
      cpuMsPerRequest: cpuMs,
      errorRate,
      missProbability,
      coldBoost: d.uniform(3, 10),
      warmTauHours: d.uniform(0.5, 2),
      profile: {
        p50Ms: sortedQuantile(sandbox, 0.5),
        p95Ms: sortedQuantile(sandbox, 0.95),
        cpuMsPerRequest: cpuMs * Math.exp(0.05 * d.normal()),
      },
      profileErrorRate: errorRate * Math.exp(0.3 * d.normal()),
    });
    start += d.uniform(20, 44) * HOUR_MS;
  }
  return out;
}

/** Episodes starting every `meanGapMs` on average (exponential gaps), each `duration()` long. */
function episodes(
  d: Draws,
  end: number,
  meanGapMs: number,
  duration: () => number,
  level: () => number,
): Episode[] {
  const out: Episode[] = [];
  let t = HISTORY_START + d.exponential(meanGapMs);
  for (let i = 0; t < end && i < 10_000; i++) {
    const length = duration();
    out.push({ from: t, to: t + length, level: level() });
    t += length + Math.max(HOUR_MS, d.exponential(meanGapMs));
  }
  return out;
}

const activeLevel = (list: readonly Episode[], at: number): number | null =>
  list.find((e) => at >= e.from && at < e.to)?.level ?? null;

/** Daily traffic shape in (0, 1]: 1 at the peak hour, 1/nightRatio at the trough. */
function dailyShape(spec: ServiceSpec, at: number): number {
  const hour = ((((at - HISTORY_START) % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  const trough = 1 / spec.nightRatio;
  const wave = (1 + Math.cos((2 * Math.PI * (hour - spec.peakHourUtc)) / 24)) / 2;
  return trough + (1 - trough) * wave ** 1.5;
}

interface ServiceState {
  readonly spec: ServiceSpec;
  readonly index: number;
  readonly draws: Draws;
  readonly revisions: readonly Revision[];
  readonly neighbours: readonly Episode[];
  readonly bursts: readonly Episode[];
  /** ln(drift) at each day's start: +1.2% a day and a random walk. */
  readonly drift: readonly number[];
  ar: number;
  prevCpu: number | null;
  /** Planned services: the current replicas, and today's peak CPU (cores) and busy slots so far. */
  planned: number;
  day: number;
  peakCores: number;
  peakBusySlots: number;
}

function initialState(spec: ServiceSpec, index: number, options: WorldOptions, end: number): ServiceState {
  const draws = new Draws(new SeededRandom(mixSeed(options.seed, index, 1)));
  const drift: number[] = [0];
  for (let day = 1; day <= options.days + 1; day++)
    drift.push((drift[day - 1] as number) + 0.012 + 0.03 * draws.normal());
  return {
    spec,
    index,
    draws,
    revisions: revisionsOf(draws, spec, end),
    neighbours: episodes(
      draws,
      end,
      3 * DAY_MS,
      () => draws.uniform(1, 6) * HOUR_MS,
      () => draws.uniform(1.1, 1.4),
    ),
    bursts: episodes(
      draws,
      end,
      2 * DAY_MS,
      () => draws.uniform(10, 40) * 60_000,
      () => draws.logUniform(0.01, 0.08),
    ),
    drift,
    ar: 0,
    prevCpu: null,
    planned: spec.replicas.kind === 'planned' ? spec.replicas.initial : 0,
    day: 0,
    peakCores: 0,
    peakBusySlots: 0,
  };
}

function trafficRate(state: ServiceState, at: number): number {
  const { spec, draws } = state;
  const days = (at - HISTORY_START) / DAY_MS;
  const day = Math.max(0, Math.floor(days));
  const lo = state.drift[Math.min(day, state.drift.length - 1)] as number;
  const hi = state.drift[Math.min(day + 1, state.drift.length - 1)] as number;
  const drift = Math.exp(lo + (hi - lo) * (days - day));
  const weekend = day % 7 >= 5 ? 0.75 : 1;
  state.ar = 0.85 * state.ar + 0.06 * draws.normal();
  return (
    spec.peakRatePerSec * dailyShape(spec, at) * weekend * drift * Math.exp(state.ar + 0.05 * draws.normal())
  );
}

function replicasFor(state: ServiceState, at: number, demandCores: number): number {
  const { spec } = state;
  const r = spec.replicas;
  if (r.kind === 'auto')
    return Math.min(r.max, Math.max(r.min, Math.ceil(demandCores / (spec.cpuPerReplica * r.targetCpu))));
  // The daily capacity review: yesterday's peaks at `targetPeak` of the allocation; scale down
  // only by more than one replica (hysteresis).
  const day = Math.floor((at - HISTORY_START) / DAY_MS);
  if (day > state.day) {
    const needed = Math.max(
      1,
      Math.ceil(state.peakCores / (spec.cpuPerReplica * r.targetPeak)),
      Math.ceil(state.peakBusySlots / (spec.concurrency * r.targetPeak)),
    );
    if (needed > state.planned || needed < state.planned - 1) state.planned = Math.min(r.max, needed);
    state.day = day;
    state.peakCores = 0;
    state.peakBusySlots = 0;
  }
  return state.planned;
}

/**
 * Everything one production window depends on that is fixed before the window's own noise is
 * drawn: the load, replicas and utilisation, the revision's exact statistics, its warm-up age, the
 * neighbour and error-burst episodes, the shift. `observeWindow` draws the window from it.
 */
export interface WindowState {
  readonly serviceIndex: number;
  /** The cadence step (seeds the window's production simulation). */
  readonly windowIndex: number;
  readonly at: number;
  readonly revision: string;
  /** Arrival rate of the production simulation, requests per second. */
  readonly rate: number;
  readonly replicas: number;
  /** CPU busy share of the allocation, production's own. */
  readonly utilisation: number;
  /** The revision's service-time body and CPU cost. */
  readonly p50Ms: number;
  readonly sigma: number;
  readonly cpuMsPerRequest: number;
  /** Cache-miss probability with the warm-up boost applied. */
  readonly missProbability: number;
  /** Service-time factor from contention and neighbours. */
  readonly slow: number;
  readonly errorProbability: number;
  /** e^(−age/τ) of the revision's warm-up. */
  readonly cold: number;
  /** The neighbour episode's slow-down, or null. */
  readonly neighbour: number | null;
  readonly shifted: boolean;
}

/** One production window as observed, drawn from its state and the window's own noise. */
interface ObservedWindow {
  readonly requests: number;
  /** Busy share of the window's concurrency slots. */
  readonly slotUtilisation: number;
  readonly observed: ModelRow['observed'];
}

/**
 * Draws one production window from its state. The window's own noise: the service-time samples
 * behind it (from `draws`), its queueing simulation (arrivals, service-time resampling, error
 * draws; seeded by `simulationSeed`), then GC/neighbour tail noise, latency jitter and CPU noise
 * (from `draws`, in this order).
 */
function observeWindow(
  window: WindowState,
  options: WorldOptions,
  draws: Draws,
  simulationSeed: number,
): ObservedWindow {
  const spec = SERVICES[window.serviceIndex];
  if (spec === undefined) throw new RangeError(`no service ${window.serviceIndex}`);
  const { utilisation, neighbour, shifted } = window;
  const samplesMs = Array.from(
    { length: PRODUCTION_SAMPLES },
    () => window.slow * serviceTime(draws, spec, window.p50Ms, window.sigma, window.missProbability),
  );
  const production: SimModel = {
    services: [
      {
        name: spec.name,
        revisions: [
          {
            name: window.revision,
            share: 1,
            replicas: window.replicas,
            concurrency: spec.concurrency,
            cpuCores: spec.cpuPerReplica,
            serviceTime: { kind: 'empirical', samplesMs },
            cpuMsPerRequest: window.cpuMsPerRequest,
            errorProbability: window.errorProbability,
          },
        ],
        timeoutMs: spec.timeoutMs,
        retries: 0,
        calls: [],
      },
    ],
    entrypoint: 0,
    arrivals: { ratePerSec: window.rate, segments: [] },
    durationMs: WINDOW_MS,
    warmupMs: PRODUCTION_WARMUP_MS,
  };
  const stats = simulate(production, simulationSeed).services[0]?.revisions[0];
  if (stats === undefined) throw new Error('the production simulation returned no revision');
  const requests = stats.requests;
  const ratePerSec = requests / (WINDOW_MS / 1000);

  // GC pauses and neighbours: heavy-tailed, one-sided, larger on busy and on JVM-like services.
  const noiseScale = (neighbour === null ? 1 : 2) * (shifted ? options.shiftNoiseFactor : 1);
  const gc = Math.min(
    2,
    spec.tailNoise * (0.02 + 0.1 * utilisation ** 2) * noiseScale * Math.abs(draws.studentT3()),
  );
  const jitter = (0.01 + 0.02 * utilisation) * noiseScale * draws.normal();
  const factor = shifted ? options.shiftLatencyFactor : 1;
  const p50 = stats.latencyMs.p50 * Math.exp(0.08 * gc + jitter) * factor;
  const p95 = Math.max(p50, stats.latencyMs.p95 * Math.exp(0.45 * gc) * factor);
  const p99 = Math.max(p95, stats.latencyMs.p99 * Math.exp(gc) * factor);
  // CPU: per-request cost grows a little with load (GC) and while the JIT warms up; idle replicas cost too.
  const cpuCores =
    ((ratePerSec * window.cpuMsPerRequest) / 1000) *
      (1 + 0.12 * utilisation + 0.25 * window.cold) *
      (neighbour === null ? 1 : 1.06) *
      Math.exp(0.025 * draws.normal()) +
    spec.idleCores * window.replicas * Math.exp(0.15 * draws.normal());
  const seen = requests > 0;
  return {
    requests,
    slotUtilisation: stats.slotUtilisation,
    observed: {
      latencyP50Ms: seen ? p50 : null,
      latencyP95Ms: seen ? p95 : null,
      latencyP99Ms: seen ? p99 : null,
      errorRate: seen ? stats.errorRate : null,
      cpuCores,
    },
  };
}

/**
 * The window drawn again with fresh noise (`replicate` picks the draw): its state as in the history,
 * its own noise from streams of its own, apart from the history's. For the oracle of bench:predict.
 */
export function redrawWindow(
  window: WindowState,
  options: WorldOptions,
  replicate: number,
): ModelRow['observed'] {
  const draws = new Draws(
    new SeededRandom(mixSeed(options.seed, window.serviceIndex, 4, window.windowIndex, replicate)),
  );
  const seed = mixSeed(options.seed, window.serviceIndex, 5, window.windowIndex, replicate);
  return observeWindow(window, options, draws, seed).observed;
}

/** One window of one service. */
function windowRow(
  state: ServiceState,
  at: number,
  windowIndex: number,
  options: WorldOptions,
  recent: RecentResiduals,
) {
  const { spec, draws } = state;
  const revision = [...state.revisions].reverse().find((r) => r.start <= at) ?? state.revisions[0];
  if (revision === undefined) throw new Error(`${spec.name} has no revision`);
  const ageHours = (at - revision.start) / HOUR_MS;
  const cold = Math.exp(-ageHours / revision.warmTauHours);
  const rate = trafficRate(state, at);
  const replicas = replicasFor(state, at, state.prevCpu ?? (rate * revision.cpuMsPerRequest) / 1000);
  const capacity = replicas * spec.cpuPerReplica;
  const utilisation = ((rate * revision.cpuMsPerRequest) / 1000 + spec.idleCores * replicas) / capacity;
  const neighbour = activeLevel(state.neighbours, at);
  const burst = activeLevel(state.bursts, at);
  const shifted = options.shiftFrom !== null && at >= options.shiftFrom;

  // Production's station: contention slows every request as CPU fills, a neighbour slows it more,
  // and a fresh revision misses its cache more often.
  const window: WindowState = {
    serviceIndex: state.index,
    windowIndex,
    at,
    revision: revision.name,
    rate,
    replicas,
    utilisation,
    p50Ms: revision.p50Ms,
    sigma: revision.sigma,
    cpuMsPerRequest: revision.cpuMsPerRequest,
    missProbability: Math.min(0.5, revision.missProbability * (1 + revision.coldBoost * cold)),
    slow: (1 + spec.contention * Math.min(1.2, utilisation) ** 3) * (neighbour ?? 1),
    errorProbability: Math.min(0.5, revision.errorRate * (1 + 2 * cold) + (burst ?? 0)),
    cold,
    neighbour,
    shifted,
  };
  const { requests, slotUtilisation, observed } = observeWindow(
    window,
    options,
    draws,
    mixSeed(options.seed, state.index, 2, windowIndex),
  );
  const ratePerSec = requests / (WINDOW_MS / 1000);
  const cpuCores = observed.cpuCores ?? 0;
  state.prevCpu = cpuCores;
  state.peakCores = Math.max(state.peakCores, cpuCores);
  state.peakBusySlots = Math.max(state.peakBusySlots, slotUtilisation * replicas * spec.concurrency);

  const load = {
    ratePerSec,
    replicas,
    concurrency: spec.concurrency,
    cpuPerReplica: spec.cpuPerReplica,
    timeoutMs: spec.timeoutMs,
    errorProbability: revision.profileErrorRate,
  };
  const simulated = simulateWindow(
    load,
    revision.profile,
    mixSeed(options.seed, state.index, 3, windowIndex),
  );
  const features = buildFeatures({
    at,
    ratePerSec,
    replicas,
    concurrency: spec.concurrency,
    cpuPerReplica: spec.cpuPerReplica,
    profile: revision.profile,
    simulated,
    revisionAgeHours: ageHours,
    recent: recent.record(spec.name, revision.name, at),
  });
  const row: ModelRow = {
    service: spec.name,
    revision: revision.name,
    at,
    windowMs: WINDOW_MS,
    requests,
    features,
    simulated: simulatedValues(simulated),
    observed,
  };
  const truth: RowTruth = {
    serviceIndex: state.index,
    cpuUtilisation: utilisation,
    neighbour: neighbour !== null,
    errorBurst: burst !== null,
    shifted,
    revisionAgeHours: ageHours,
  };
  return { row, truth, window };
}

/**
 * Generates the history: for every cadence step, one window per service (service i's window starts
 * i minutes into the step). `onProgress` gets the share done now and then.
 */
export function generateHistory(options: WorldOptions, onProgress?: (done: number) => void): History {
  if (!(options.services >= 1 && options.services <= SERVICES.length))
    throw new RangeError(`services must be in [1, ${SERVICES.length}]`);
  if (!(options.cadenceMs >= options.services * WINDOW_MS))
    throw new RangeError('cadenceMs must leave one minute per service');
  const end = HISTORY_START + options.days * DAY_MS;
  const states = SERVICES.slice(0, options.services).map((spec, i) => initialState(spec, i, options, end));
  const steps = Math.floor((options.days * DAY_MS) / options.cadenceMs);
  const rows: ModelRow[] = [];
  const truth: RowTruth[] = [];
  const windows: WindowState[] = [];
  // What production showed each service lately, as the running product remembers it.
  const recent = new RecentResiduals();
  for (let k = 0; k < steps; k++) {
    for (const state of states) {
      const at = HISTORY_START + k * options.cadenceMs + state.index * WINDOW_MS;
      const made = windowRow(state, at, k, options, recent);
      recent.add(made.row);
      rows.push(made.row);
      truth.push(made.truth);
      windows.push(made.window);
    }
    if (onProgress !== undefined && k % 100 === 99) onProgress((k + 1) / steps);
  }
  const revisions: Record<string, number> = {};
  for (const row of rows) revisions[row.service] = 0;
  for (const service of Object.keys(revisions))
    revisions[service] = new Set(rows.filter((r) => r.service === service).map((r) => r.revision)).size;
  return { options, rows, truth, windows, services: states.map((s) => s.spec.name), revisions };
}
