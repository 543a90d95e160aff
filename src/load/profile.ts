import type { Random } from '../core/random.js';

export type ProfileKind = 'constant' | 'diurnal' | 'spike';

/** Arrival rate over time, in requests per second. Pure data: `rateAt` reads it, nothing mutates it. */
export type LoadProfile =
  | { readonly kind: 'constant'; readonly rate: number }
  | {
      readonly kind: 'diurnal';
      /** The peak rate, reached half-way through each period. */
      readonly rate: number;
      /** One compressed day. */
      readonly periodMs: number;
      /** The trough as a fraction of the peak, at the start of each period. */
      readonly troughFraction: number;
    }
  | {
      readonly kind: 'spike';
      /** The base rate, outside the spike. */
      readonly rate: number;
      readonly spikeFactor: number;
      readonly spikeAtMs: number;
      readonly spikeMs: number;
    };

export const DEFAULT_PERIOD_MS = 60_000;
export const DEFAULT_TROUGH_FRACTION = 0.3;
export const DEFAULT_SPIKE_FACTOR = 2;

/** The target arrival rate (req/s) at `tMs` after the start. */
export function rateAt(profile: LoadProfile, tMs: number): number {
  switch (profile.kind) {
    case 'constant':
      return profile.rate;
    case 'diurnal': {
      // Starts at night (the trough), peaks at midday (half a period), back to night.
      const phase = (2 * Math.PI * tMs) / profile.periodMs;
      const daylight = (1 - Math.cos(phase)) / 2;
      return profile.rate * (profile.troughFraction + (1 - profile.troughFraction) * daylight);
    }
    case 'spike': {
      const inSpike = tMs >= profile.spikeAtMs && tMs < profile.spikeAtMs + profile.spikeMs;
      return inSpike ? profile.rate * profile.spikeFactor : profile.rate;
    }
  }
}

/** An upper bound of `rateAt` over all time. */
export function peakRate(profile: LoadProfile): number {
  switch (profile.kind) {
    case 'constant':
    case 'diurnal':
      return profile.rate;
    case 'spike':
      return profile.rate * Math.max(1, profile.spikeFactor);
  }
}

/**
 * The next arrival of a Poisson process whose rate follows the profile, strictly after `fromMs`
 * (exact for a varying rate: candidates at the peak rate, each kept with probability rate/peak).
 * Returns Infinity when no arrival falls before `untilMs`.
 */
export function nextArrivalMs(profile: LoadProfile, random: Random, fromMs: number, untilMs: number): number {
  const peak = peakRate(profile);
  if (!(peak > 0)) return Infinity;
  let t = fromMs;
  for (;;) {
    t += (-Math.log(1 - random.next()) / peak) * 1000;
    if (t >= untilMs) return Infinity;
    if (random.next() * peak < rateAt(profile, t)) return t;
  }
}
