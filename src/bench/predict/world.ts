/**
 * The generated production of bench:predict: six services, their resources, traffic shapes and the
 * production effects the simulator does not model. Chosen to look like a small shop's backend
 * before any model was run on it (docs/benchmarks.md); nothing here is fitted to the results.
 */

export interface ServiceSpec {
  readonly name: string;
  /** Requests per second at the daily peak on day 0 (a weekday). */
  readonly peakRatePerSec: number;
  /** Peak over night trough of the daily shape. */
  readonly nightRatio: number;
  /** Hour (UTC) of the daily peak. */
  readonly peakHourUtc: number;
  /**
   * Replicas: autoscaled on the previous window's CPU to `targetCpu` of the allocation, or planned:
   * resized once a day (00:00 UTC) so that the previous day's peak CPU and busy slots would fill
   * `targetPeak` of the allocation (the operators' daily capacity review).
   */
  readonly replicas:
    | {
        readonly kind: 'planned';
        readonly initial: number;
        readonly max: number;
        readonly targetPeak: number;
      }
    | { readonly kind: 'auto'; readonly min: number; readonly max: number; readonly targetCpu: number };
  readonly concurrency: number;
  /** CPU cores allocated per replica. */
  readonly cpuPerReplica: number;
  readonly timeoutMs: number;
  /** The first revision's service time without production effects: median and σ of its log-normal body. */
  readonly p50Ms: number;
  readonly sigma: number;
  readonly cpuMsPerRequest: number;
  /** Base error probability of the first revision. */
  readonly errorRate: number;
  /** Cache misses on a warm cache: their probability and how much slower they are. */
  readonly missProbability: number;
  readonly missFactor: number;
  /** Service time × (1 + contention · u³) at CPU utilisation u (the simulator has no CPU queue). */
  readonly contention: number;
  /** Scale of the heavy-tailed latency noise (GC pauses, neighbours): JVM-like services are higher. */
  readonly tailNoise: number;
  /** Idle CPU per replica (runtime, health checks, sidecar), cores. */
  readonly idleCores: number;
}

export const SERVICES: readonly ServiceSpec[] = [
  {
    name: 'gateway',
    peakRatePerSec: 400,
    nightRatio: 8,
    peakHourUtc: 13,
    replicas: { kind: 'auto', min: 2, max: 8, targetCpu: 0.55 },
    concurrency: 32,
    cpuPerReplica: 0.5,
    timeoutMs: 1_000,
    p50Ms: 6,
    sigma: 0.7,
    cpuMsPerRequest: 3,
    errorRate: 0.0005,
    missProbability: 0.005,
    missFactor: 6,
    contention: 0.6,
    tailNoise: 0.7,
    idleCores: 0.04,
  },
  {
    name: 'checkout',
    peakRatePerSec: 120,
    nightRatio: 6,
    peakHourUtc: 15,
    replicas: { kind: 'planned', initial: 4, max: 10, targetPeak: 0.6 },
    concurrency: 8,
    cpuPerReplica: 1,
    timeoutMs: 2_000,
    p50Ms: 45,
    sigma: 0.68,
    cpuMsPerRequest: 18,
    errorRate: 0.002,
    missProbability: 0.02,
    missFactor: 4,
    contention: 0.5,
    tailNoise: 1.2,
    idleCores: 0.08,
  },
  {
    name: 'search',
    peakRatePerSec: 170,
    nightRatio: 5,
    peakHourUtc: 12,
    replicas: { kind: 'planned', initial: 8, max: 16, targetPeak: 0.6 },
    concurrency: 4,
    cpuPerReplica: 2,
    timeoutMs: 2_000,
    p50Ms: 70,
    sigma: 0.78,
    cpuMsPerRequest: 45,
    errorRate: 0.001,
    missProbability: 0.03,
    missFactor: 3,
    contention: 0.8,
    tailNoise: 1.5,
    idleCores: 0.12,
  },
  {
    name: 'catalog',
    peakRatePerSec: 250,
    nightRatio: 10,
    peakHourUtc: 19,
    replicas: { kind: 'auto', min: 2, max: 6, targetCpu: 0.6 },
    concurrency: 16,
    cpuPerReplica: 1,
    timeoutMs: 1_000,
    p50Ms: 15,
    sigma: 0.6,
    cpuMsPerRequest: 7,
    errorRate: 0.0008,
    missProbability: 0.04,
    missFactor: 5,
    contention: 0.5,
    tailNoise: 1,
    idleCores: 0.06,
  },
  {
    name: 'payments',
    peakRatePerSec: 40,
    nightRatio: 7,
    peakHourUtc: 16,
    replicas: { kind: 'planned', initial: 4, max: 8, targetPeak: 0.6 },
    concurrency: 4,
    cpuPerReplica: 0.5,
    timeoutMs: 5_000,
    p50Ms: 110,
    sigma: 0.7,
    cpuMsPerRequest: 9,
    errorRate: 0.004,
    missProbability: 0.01,
    missFactor: 3,
    contention: 0.3,
    tailNoise: 0.8,
    idleCores: 0.05,
  },
  {
    name: 'recommend',
    peakRatePerSec: 90,
    nightRatio: 6,
    peakHourUtc: 20,
    replicas: { kind: 'planned', initial: 5, max: 10, targetPeak: 0.6 },
    concurrency: 6,
    cpuPerReplica: 2,
    timeoutMs: 1_500,
    p50Ms: 55,
    sigma: 0.84,
    cpuMsPerRequest: 40,
    errorRate: 0.0015,
    missProbability: 0.05,
    missFactor: 3,
    contention: 0.6,
    tailNoise: 1.4,
    idleCores: 0.15,
  },
];

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Monday 3 March 2025, 00:00 UTC. */
export const HISTORY_START = Date.UTC(2025, 2, 3);
export const WINDOW_MS = 60_000;

/** How production and its history are laid out; the bench's defaults below. */
export interface WorldOptions {
  readonly seed: number;
  /** Days generated (the shifted days included). */
  readonly days: number;
  /** One 60-s window every `cadenceMs` per service. */
  readonly cadenceMs: number;
  /** The first `services` of SERVICES. */
  readonly services: number;
  /** From this time on production undergoes the shift (null: never). */
  readonly shiftFrom: number | null;
  /** Latencies × this during the shift. */
  readonly shiftLatencyFactor: number;
  /** Latency noise scale × this during the shift. */
  readonly shiftNoiseFactor: number;
}

export const BENCH_WORLD: WorldOptions = {
  seed: 20_250_303,
  days: 16,
  cadenceMs: 10 * 60_000,
  services: SERVICES.length,
  shiftFrom: HISTORY_START + 14 * DAY_MS,
  shiftLatencyFactor: 1.5,
  shiftNoiseFactor: 1.5,
};

/** Days of the unshifted history whose last `heldOutDays` are held out. */
export const HISTORY_DAYS = 14;
export const HELD_OUT_DAYS = 3;
