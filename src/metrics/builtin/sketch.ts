/**
 * Latency sketches: one relative accuracy everywhere, because DDSketches only merge when their
 * mappings match exactly.
 */
import { DDSketch } from '@datadog/sketches-js';

export const RELATIVE_ACCURACY = 0.01;

export function newLatencySketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
}

/**
 * Latency at quantile q, or null for an empty sketch. Clamped to the recorded min and max, which
 * are exact where known, so that a bucket's representative value never lies outside the data.
 */
export function quantileOf(sketch: DDSketch | null, q: number): number | null {
  if (sketch === null || sketch.count === 0) return null;
  const v = sketch.getValueAtQuantile(q);
  if (Number.isNaN(v)) return null;
  return Math.min(Math.max(v, sketch.min), sketch.max);
}

/**
 * How many recorded values exceed `threshold`. Approximate: a bucket is counted as a whole, on the
 * side where its representative value falls, so values within the relative accuracy of the
 * threshold may land on either side.
 */
export function countAbove(sketch: DDSketch, threshold: number): number {
  const { store, negativeStore, mapping } = sketch;
  let above = 0;
  for (let key = store.minKey; key <= store.maxKey; key++) {
    const c = store.bins[key - store.offset] ?? 0;
    if (c > 0 && mapping.value(key) > threshold) above += c;
  }
  if (threshold < 0) {
    above += sketch.zeroCount;
    for (let key = negativeStore.minKey; key <= negativeStore.maxKey; key++) {
      const c = negativeStore.bins[key - negativeStore.offset] ?? 0;
      if (c > 0 && -mapping.value(key) > threshold) above += c;
    }
  }
  return above;
}

/** Merges `from` into `into`, allocating `into` on first use. */
export function mergeInto(into: DDSketch | null, from: DDSketch): DDSketch {
  const target = into ?? newLatencySketch();
  target.merge(from);
  return target;
}
