import type { ApplicationConfig } from '../config/types.js';
import { AugurError } from '../core/errors.js';
import type { Workload } from './workload.js';

/** What a scenario changes about one service. */
export interface Perturbation {
  /** Multiplies the service time of every revision of the service. */
  readonly latencyMultiplier?: number;
  /** The service answers every request with an error. */
  readonly down?: boolean;
  /**
   * Stretches the service time so that its median is this fraction of the service's timeout: slow
   * enough that the tail times out and callers retry.
   */
  readonly medianOfTimeout?: number;
}

export interface Scenario {
  /** e.g. `nominal`, `peak`, `slow:payments`, `down:payments`, `retry-storm`. */
  readonly name: string;
  readonly family: ScenarioFamily;
  readonly description: string;
  /** Share of the scenario mix (the weights of a mix sum to 1). */
  readonly weight: number;
  /** Entry rate in requests per second before segments. */
  readonly ratePerSec: number;
  /** Rate multipliers from a simulated time on (a spike). */
  readonly segments: readonly { readonly fromMs: number; readonly multiplier: number }[];
  readonly perturb: Readonly<Record<string, Perturbation>>;
  /** Load scenarios describe normal operation: predicted ranges come from them. */
  readonly load: boolean;
}

export type ScenarioFamily = 'nominal' | 'peak' | 'spike' | 'slow' | 'down' | 'retry-storm';

export const SCENARIO_FAMILIES: readonly ScenarioFamily[] = [
  'nominal',
  'peak',
  'spike',
  'slow',
  'down',
  'retry-storm',
];

/** Default weights of the families; `slow` and `down` are split evenly over the dependencies. */
export const DEFAULT_WEIGHTS: Readonly<Record<ScenarioFamily, number>> = {
  nominal: 0.4,
  peak: 0.2,
  spike: 0.15,
  slow: 0.1,
  down: 0.05,
  'retry-storm': 0.1,
};

/** Peak scenario: the historical maximum times this. */
export const PEAK_FACTOR = 1.2;
export const SPIKE_FACTOR = 2;
export const SPIKE_AT_MS = 30_000;
export const SPIKE_MS = 60_000;
export const SLOW_FACTOR = 3;
/** Retry storm: each dependency's median service time at this fraction of its timeout. */
export const RETRY_STORM_MEDIAN = 0.7;

/**
 * Parses `--scenarios`: a comma-separated list of families, each optionally `=weight`
 * (`nominal=0.5,peak,down=0.1`). Families listed without a weight keep their default weight;
 * the weights are then normalised to sum to 1. Unknown names are refused with the valid ones.
 */
export function parseScenarioWeights(text: string): Partial<Record<ScenarioFamily, number>> {
  const weights: Partial<Record<ScenarioFamily, number>> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const [name = '', raw] = part.split('=', 2).map((s) => s.trim());
    if (!(SCENARIO_FAMILIES as readonly string[]).includes(name)) {
      throw new AugurError(
        'SCENARIO_UNKNOWN',
        `unknown scenario "${name}" (known: ${SCENARIO_FAMILIES.join(', ')})`,
      );
    }
    const family = name as ScenarioFamily;
    const weight = raw === undefined ? DEFAULT_WEIGHTS[family] : raw === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(weight) || weight < 0) {
      throw new AugurError(
        'SCENARIO_WEIGHT',
        `scenario weight for "${name}" must be a number ≥ 0, got "${raw}"`,
      );
    }
    weights[family] = weight;
  }
  if (Object.keys(weights).length === 0) throw new AugurError('SCENARIO_EMPTY', 'no scenario given');
  if (!Object.values(weights).some((w) => w > 0))
    throw new AugurError('SCENARIO_EMPTY', 'the scenario weights sum to zero: give one a weight above 0');
  return weights;
}

/** Services some other service calls: the ones that can be slowed or taken down. */
export function dependencies(app: ApplicationConfig): string[] {
  const called = new Set<string>();
  for (const service of Object.values(app.services))
    for (const call of service.calls) called.add(call.service);
  return Object.keys(app.services).filter((name) => called.has(name));
}

/** The scenario mix for an application under a workload. */
export function buildScenarios(
  app: ApplicationConfig,
  workload: Workload,
  weights: Partial<Record<ScenarioFamily, number>> = DEFAULT_WEIGHTS,
): Scenario[] {
  const nominal = workload.nominalRatePerSec;
  const peak = Math.max(workload.peakRatePerSec, nominal) * PEAK_FACTOR;
  const deps = dependencies(app);
  const out: Omit<Scenario, 'weight'>[] = [];
  const familyWeight = new Map<string, number>();
  const add = (family: ScenarioFamily, items: Omit<Scenario, 'weight'>[]): void => {
    const w = weights[family];
    if (w === undefined || w <= 0 || items.length === 0) return;
    for (const item of items) {
      out.push(item);
      familyWeight.set(item.name, w / items.length);
    }
  };
  const bursts = burstSegments(workload.burstiness);
  add('nominal', [
    {
      name: 'nominal',
      family: 'nominal',
      description:
        `typical load: ${round(nominal)} req/s at the entrypoint` +
        (bursts.length > 0
          ? `, varying ±${Math.round(Math.min(workload.burstiness, MAX_BURST) * 100)}% as history does`
          : ''),
      ratePerSec: nominal,
      segments: bursts,
      perturb: {},
      load: true,
    },
  ]);
  add('peak', [
    {
      name: 'peak',
      family: 'peak',
      description: `historical peak × ${PEAK_FACTOR}: ${round(peak)} req/s`,
      ratePerSec: peak,
      segments: [],
      perturb: {},
      load: true,
    },
  ]);
  add('spike', [
    {
      name: 'spike',
      family: 'spike',
      description: `typical load, × ${SPIKE_FACTOR} for a minute`,
      ratePerSec: nominal,
      segments: [
        { fromMs: SPIKE_AT_MS, multiplier: SPIKE_FACTOR },
        { fromMs: SPIKE_AT_MS + SPIKE_MS, multiplier: 1 },
      ],
      perturb: {},
      load: true,
    },
  ]);
  add(
    'slow',
    deps.map((name) => ({
      name: `slow:${name}`,
      family: 'slow' as const,
      description: `${name} ${SLOW_FACTOR}× slower, typical load`,
      ratePerSec: nominal,
      segments: [],
      perturb: { [name]: { latencyMultiplier: SLOW_FACTOR } },
      load: false,
    })),
  );
  add(
    'down',
    deps.map((name) => ({
      name: `down:${name}`,
      family: 'down' as const,
      description: `${name} fails every request, typical load`,
      ratePerSec: nominal,
      segments: [],
      perturb: { [name]: { down: true } },
      load: false,
    })),
  );
  add('retry-storm', [
    {
      name: 'retry-storm',
      family: 'retry-storm',
      description:
        'every dependency slowed until its tail times out, at peak load: configured retries multiply the load',
      ratePerSec: peak,
      segments: [],
      perturb: Object.fromEntries(deps.map((name) => [name, { medianOfTimeout: RETRY_STORM_MEDIAN }])),
      load: false,
    },
  ]);
  const total = [...familyWeight.values()].reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new AugurError('SCENARIO_EMPTY', 'the scenario weights sum to zero');
  return out.map((s) => ({ ...s, weight: (familyWeight.get(s.name) ?? 0) / total }));
}

/** Highest burstiness modelled: beyond it, the peak scenario speaks for the busy minutes. */
const MAX_BURST = 0.5;
const BURST_SEGMENT_MS = 15_000;
const BURST_SEGMENTS = 40;

/**
 * History's minute-to-minute variation as a square wave around the nominal rate: alternating
 * segments of (1 + cv) and (1 − cv) × the rate, same mean, same coefficient of variation. None when
 * history is steady (cv < 0.05).
 */
export function burstSegments(cv: number): { fromMs: number; multiplier: number }[] {
  const c = Math.min(MAX_BURST, cv);
  if (!(c >= 0.05)) return [];
  return Array.from({ length: BURST_SEGMENTS }, (_, i) => ({
    fromMs: i * BURST_SEGMENT_MS,
    multiplier: i % 2 === 0 ? 1 + c : 1 - c,
  }));
}

function round(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}
