import type { ApplicationConfig } from '../config/types.js';
import type { Forecast, Forecaster, ForecastRequest } from '../controller/predicted/source.js';
import type { MetricsProvider } from '../metrics/provider.js';
import type { SimModel } from '../sim/model.js';
import type { ServiceProfile } from '../sim/profile.js';
import { simulate } from '../sim/simulate.js';
import { buildFeatures } from '../calibration/features.js';
import type { CalibratedRanges } from '../calibration/model-set.js';
import { simulatedWindowOf } from '../calibration/simulate-window.js';
import { lognormalFrom } from './profiles.js';
import { PEAK_FACTOR } from './scenarios.js';

export interface ForecastOptions {
  /**
   * CPU an idle replica may use, in cores, subtracted when estimating the canary's CPU per request
   * (an idle Node process measured 0.2% of a core here; the allowance is 1.5 times that, so a healthy
   * canary at a small tier is not blamed for background work).
   */
  readonly idleCoresPerReplica?: number;
  /** Canary requests at the current tier before a forecast is made. */
  readonly minRequests?: number;
  /** Weight of the peak scenario (the rest is nominal). */
  readonly peakWeight?: number;
  /** Simulated seconds per later tier for the latency forecast. */
  readonly simSeconds?: number;
  readonly seeds?: readonly number[];
  /**
   * The prediction model: a simulated p99 at a later tier becomes its calibrated 90% range, and the
   * share of that range over the limit is the breach probability of the run (docs/model.md).
   * Without it a run breaches when its simulated p99 is over the limit.
   */
  readonly calibration?: () => CalibratedRanges;
}

/**
 * A calibrated p99 range whose high end is more than this multiple of its low end says nothing
 * about a breach ("anything from 1 to 786 ms"): such a run is judged by its simulated p99, as
 * without a model. Read as a share of a uniform range it once put a healthy canary's risk at 64%:
 * the cold-start calibration, a few seconds into the demo, had only its start-up windows' errors.
 */
const MAX_RANGE_SPREAD = 10;
/** Relative uncertainty kept around a confirmed prior. */
const PRIOR_TOLERANCE = 0.1;
/** Seconds of the current tier before a CPU forecast. */
const MIN_WINDOWS = 5;
/** Share of the busiest seconds left out of the CPU estimate. */
const BURST_SHARE = 0.2;
/**
 * CPU comes from /proc in clock ticks (10 ms at USER_HZ 100), charged to whichever process runs when
 * the tick falls: a span's CPU time T is known to about ±√(10 ms · T), and each replica's reading
 * to a tick at either end. The canary's CPU range is widened by twice that: at a small tier of a
 * small service the canary uses about one tick a second, and ten seconds of it say CPU ±30%.
 */
const CPU_TICK_MS = 10;
const CPU_NOISE_Z = 2;

const DEFAULTS: Omit<Required<ForecastOptions>, 'calibration'> = {
  idleCoresPerReplica: 0.003,
  minRequests: 10,
  peakWeight: 0.3,
  simSeconds: 30,
  seeds: [1, 2],
};

/**
 * The fast re-prediction during a rollout: from the canary's profile as observed at the current
 * tier — CPU per request (from /proc, bounded above by everything the canary used and below by
 * that minus an idle allowance) and its latency distribution (the time a request holds its slot) —
 * predicts each later tier at nominal and peak load: CPU utilisation against `limits.cpu`
 * analytically, and p99 latency against `limits.latencyP99Ms` by simulating the service's replicas
 * and slots. Risk is the scenario-weighted share of the CPU estimate's range, and of the simulated
 * runs, that breach at some later tier. Runs in milliseconds.
 */
export class ObservedForecaster implements Forecaster {
  private readonly app: ApplicationConfig;
  private readonly provider: MetricsProvider;
  private readonly options: Omit<Required<ForecastOptions>, 'calibration'>;
  private readonly calibration: (() => CalibratedRanges) | null;
  /** CPU ms per request measured before the rollout, by `service\u0000revision`. */
  private readonly priors = new Map<string, number>();

  constructor(app: ApplicationConfig, provider: MetricsProvider, options: ForecastOptions = {}) {
    this.app = app;
    this.provider = provider;
    const { calibration, ...rest } = options;
    this.options = { ...DEFAULTS, ...rest };
    this.calibration = calibration ?? null;
  }

  /**
   * Remembers what a prediction measured of revisions (their sandbox profiles), so that a canary's
   * forecast can adopt the precise figure once the canary's own observations confirm it.
   */
  remember(profiles: readonly ServiceProfile[]): void {
    for (const p of profiles) {
      if (p.source === 'sandbox' && p.cpuMsPerRequest > 0)
        this.priors.set(`${p.service}\u0000${p.revision}`, p.cpuMsPerRequest);
    }
  }

  async forecast(request: ForecastRequest): Promise<Forecast | null> {
    const { service, stable, canary, tiers, tierIndex, from, to } = request;
    const later = tiers.slice(tierIndex + 1);
    const current = tiers[tierIndex];
    if (later.length === 0 || current === undefined || to <= from) return null;
    const seconds = (to - from) / 1000;
    const [c, s] = await Promise.all([
      this.provider.aggregate({ service: service.name, revision: canary, from, to }),
      this.provider.aggregate({ service: service.name, revision: stable, from, to }),
    ]);
    if (c.requests < this.options.minRequests) return null;
    const serviceRate = (c.requests + s.requests) / seconds;
    const { replicas, cpu: cores } = service.resources;
    const capacity = replicas * cores;
    const scenarios = [
      { name: 'nominal', multiple: 1, weight: 1 - this.options.peakWeight },
      { name: 'peak', multiple: PEAK_FACTOR, weight: this.options.peakWeight },
    ];
    const findings: { risk: number; tier: number | null; detail: string }[] = [];

    const cpuLimit = service.limits.cpu;
    const steady = await this.steadyCpu(service.name, canary, from, to);
    let cpuMsPerRequest: number | null = null;
    if (cpuLimit !== undefined && steady !== null && steady.cores > 0 && capacity > 0) {
      const spanMs = steady.seconds * 1000;
      const usedMs = steady.cores * spanMs;
      const noiseMs = CPU_NOISE_Z * Math.sqrt(CPU_TICK_MS * usedMs) + CPU_TICK_MS * replicas;
      const idleMs = this.options.idleCoresPerReplica * replicas * spanMs;
      const observedHigh = (usedMs + noiseMs) / steady.requests;
      const observedLow = Math.max(0, usedMs - noiseMs - idleMs) / steady.requests;
      const prior = this.priors.get(`${service.name}\u0000${canary}`);
      // A measurement from before the rollout (the sandbox), precise because it ran at a higher rate
      // with idle work subtracted, is adopted once the canary's own range confirms it: the
      // observation is what decides, the prior only sharpens it.
      const confirmed =
        prior !== undefined && observedLow > 0 && prior >= observedLow && prior <= observedHigh;
      const low = confirmed ? prior * (1 - PRIOR_TOLERANCE) : observedLow;
      const high = confirmed ? prior * (1 + PRIOR_TOLERANCE) : observedHigh;
      // The idle allowance and the measurement's noise must not dominate: at a tiny tier the range
      // says nothing, so no forecast.
      const informative = confirmed || (high > 0 && high - low <= high / 2);
      const mid = (low + high) / 2;
      cpuMsPerRequest = mid;
      const utilisation = (tier: number, cpuMs: number, multiple: number): number =>
        ((tier / 100) * serviceRate * multiple * cpuMs) / 1000 / capacity;
      // Breach probability at a later tier: the scenario-weighted share of the CPU range over the limit.
      const riskAt = (tier: number): number =>
        scenarios.reduce((sum, scenario) => {
          const threshold = (cpuLimit * capacity * 1000) / ((tier / 100) * serviceRate * scenario.multiple);
          return sum + scenario.weight * shareAbove(low, high, threshold);
        }, 0);
      const top = Math.max(...later);
      const risk = riskAt(top);
      // Utilisation grows with the tier, so does the risk: the breach is placed at the first later
      // tier that carries at least half of it.
      const tier = later.find((t) => risk > 0 && riskAt(t) >= risk / 2) ?? null;
      const at = tier ?? top;
      const evidence = confirmed
        ? `${service.name} ${canary} costs ${prior.toFixed(1)} ms of CPU per request (measured before the rollout, confirmed by the canary's ${observedLow.toFixed(1)}–${observedHigh.toFixed(1)} ms at the ${current}% tier)`
        : `${service.name} ${canary} used ${low.toFixed(1)}–${high.toFixed(1)} ms of CPU per request at the ${current}% tier`;
      if (informative)
        findings.push({
          risk,
          tier,
          detail:
            `${evidence}: ` +
            `${pct(utilisation(at, mid, 1))} of its CPU allocation at the ${at}% tier under nominal load, ` +
            `${pct(utilisation(at, mid, PEAK_FACTOR))} at peak × ${PEAK_FACTOR} (limit ${pct(cpuLimit)})` +
            (utilisation(at, mid, 1) >= 1 ? ', where its CPU saturates' : ''),
        });
    }

    const latencyLimit = service.limits.latencyP99Ms;
    const p50 = c.latency.p50;
    const p95 = c.latency.p95;
    if (latencyLimit !== undefined && p50 !== null && p95 !== null) {
      const slotTime = lognormalFrom(p50, p95);
      let risk = 0;
      let firstTier: number | null = null;
      let worst = 0;
      const ranges = this.calibration?.() ?? null;
      let worstRange: { low: number; high: number } | null = null;
      for (const scenario of scenarios) {
        for (const seed of this.options.seeds) {
          let breach = 0;
          for (const tier of later) {
            const rate = (tier / 100) * serviceRate * scenario.multiple;
            const result = simulate(
              this.station(service.name, slotTime, rate, replicas, service.resources.concurrency),
              seed,
            );
            const stats = result.services[0]?.revisions[0];
            const p99 = stats?.latencyMs.p99 ?? 0;
            let share = p99 > latencyLimit ? 1 : 0;
            let range: { low: number; high: number } | null = null;
            if (ranges !== null && stats !== undefined && p99 > 0) {
              const features = buildFeatures({
                at: to,
                ratePerSec: rate,
                replicas,
                concurrency: service.resources.concurrency,
                cpuPerReplica: cores,
                profile: { p50Ms: p50, p95Ms: p95, cpuMsPerRequest: cpuMsPerRequest ?? 0 },
                simulated: simulatedWindowOf(stats, rate, cpuMsPerRequest ?? 0),
                revisionAgeHours: 0,
                recent: ranges.recent(service.name, canary, to),
              });
              const calibrated = ranges.range('latencyP99Ms', p99, features, service.name);
              // The widened cold-start range promises nothing, nor does a range too wide to say:
              // neither decides a breach.
              if (
                calibrated.source !== 'simulation-widened' &&
                calibrated.low > 0 &&
                calibrated.high <= MAX_RANGE_SPREAD * calibrated.low
              ) {
                range = calibrated;
                share = shareAbove(range.low, range.high, latencyLimit);
              }
            }
            if (share > breach) {
              breach = share;
              if (p99 >= worst) {
                worst = p99;
                worstRange = range;
              }
              if (scenario.name === 'nominal' && share >= 0.5 && (firstTier === null || tier < firstTier))
                firstTier = tier;
            }
            if (breach >= 1) break;
          }
          risk += (scenario.weight / this.options.seeds.length) * breach;
        }
      }
      if (risk > 0) {
        findings.push({
          risk,
          tier: firstTier,
          detail:
            `${service.name} ${canary} holds each request ${p50.toFixed(1)} ms (p50) at the ${current}% tier: ` +
            `at a later tier its slots queue and its simulated p99 reaches ${worst.toFixed(0)} ms` +
            (worstRange === null
              ? ''
              : `, ${worstRange.low.toFixed(0)}–${worstRange.high.toFixed(0)} ms (90% range) through the model of what production showed`) +
            ` (limit ${latencyLimit} ms)`,
        });
      }
    }

    if (findings.length === 0) return null;
    const worst = findings.reduce((a, b) => (b.risk > a.risk ? b : a));
    return { risk: Math.min(1, Math.max(0, worst.risk)), breachTier: worst.tier, detail: worst.detail };
  }

  /**
   * The canary's CPU cores over the tier, robust to bursts: the mean of its one-second windows after
   * dropping the busiest fifth (a garbage collection, or a fresh process's first requests — JIT
   * compilation, lazy set-up — would otherwise be charged to the few requests of a small tier), with
   * the requests and seconds it covers (the one-second windows only, the last of them when the tier
   * began before the metrics' ring). Null with fewer than MIN_WINDOWS seconds, or no request in them:
   * too little to say.
   */
  private async steadyCpu(
    service: string,
    revision: string,
    from: number,
    to: number,
  ): Promise<{ cores: number; requests: number; seconds: number } | null> {
    const series = await this.provider.series({ service, revision, from, to });
    // Older seconds come back as stored minutes (a long tier outlasts the one-second ring): the
    // estimate covers the seconds after them, so that its CPU and its requests span the same time.
    const start = series.reduce((at, w) => (w.to - w.from > 1000 ? Math.max(at, w.to) : at), from);
    const windows = series.filter((w) => w.to - w.from <= 1000 && w.from >= start);
    const cores = windows
      .map((w) => w.cpuCores)
      .filter((x): x is number => x !== null)
      .sort((a, b) => a - b);
    const requests = windows.reduce((sum, w) => sum + w.requests, 0);
    // Seconds without a request have no window: the missing ones count as idle, at the lowest.
    const seconds = Math.round((to - start) / 1000);
    if (seconds < MIN_WINDOWS || cores.length === 0 || requests === 0) return null;
    const padded = [...new Array<number>(Math.max(0, seconds - cores.length)).fill(cores[0] ?? 0), ...cores];
    const kept = padded.slice(0, Math.max(1, Math.ceil(padded.length * (1 - BURST_SHARE))));
    return { cores: kept.reduce((a, b) => a + b, 0) / kept.length, requests, seconds };
  }

  /** One service's revision as a lone station: slot time includes its calls (held meanwhile). */
  private station(
    name: string,
    serviceTime: ReturnType<typeof lognormalFrom>,
    ratePerSec: number,
    replicas: number,
    concurrency: number,
  ): SimModel {
    const seconds = this.options.simSeconds;
    return {
      services: [
        {
          name,
          revisions: [
            {
              name: 'canary',
              share: 1,
              replicas,
              concurrency,
              cpuCores: 1,
              serviceTime,
              cpuMsPerRequest: 0,
              errorProbability: 0,
            },
          ],
          timeoutMs: this.app.services[name]?.policies.timeoutMs ?? 1_000,
          retries: 0,
          calls: [],
        },
      ],
      entrypoint: 0,
      arrivals: { ratePerSec, segments: [] },
      durationMs: seconds * 1000,
      warmupMs: 2_000,
    };
  }
}

/** Share of the uniform range [low, high] above `threshold`. */
function shareAbove(low: number, high: number, threshold: number): number {
  if (high <= low) return low > threshold ? 1 : 0;
  return Math.min(1, Math.max(0, (high - threshold) / (high - low)));
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}
