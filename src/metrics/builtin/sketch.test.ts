import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/random.js';
import { countAbove, newLatencySketch, quantileOf, RELATIVE_ACCURACY } from './sketch.js';
import { decodeSketch, encodeSketch } from './sketch-codec.js';

/** Log-normal latencies (median ~20 ms, long tail), the shape real services show. */
function latencies(seed: number, n: number): number[] {
  const random = new SeededRandom(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u1 = 1 - random.next();
    const u2 = random.next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    out.push(Math.exp(Math.log(20) + 0.8 * z));
  }
  return out;
}

// The sketch's rank convention: the value at 0-based index floor(q × (n − 1)).
const exactQuantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN;

const QUANTILES = [0, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1];

describe('latency sketch', () => {
  it('answers quantiles within 1% relative error of the exact values', () => {
    const values = latencies(7, 20_000);
    const sketch = newLatencySketch();
    for (const v of values) sketch.accept(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q);
      const got = quantileOf(sketch, q) ?? Number.NaN;
      expect(Math.abs(got - exact) / exact, `q=${q}`).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-12);
    }
  });

  it('keeps that accuracy after merging sketches of disjoint parts', () => {
    const values = latencies(11, 9_000);
    const merged = newLatencySketch();
    for (let part = 0; part < 3; part++) {
      const s = newLatencySketch();
      for (const v of values.slice(part * 3_000, (part + 1) * 3_000)) s.accept(v);
      merged.merge(s);
    }
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs((quantileOf(merged, q) ?? 0) - exact) / exact).toBeLessThanOrEqual(
        RELATIVE_ACCURACY + 1e-12,
      );
    }
  });

  it('reports no quantile for an empty sketch', () => {
    expect(quantileOf(newLatencySketch(), 0.5)).toBeNull();
    expect(quantileOf(null, 0.5)).toBeNull();
  });

  it('counts values above a threshold up to the bucket holding it', () => {
    const sketch = newLatencySketch();
    for (let v = 1; v <= 1000; v++) sketch.accept(v);
    sketch.accept(0);
    expect(countAbove(sketch, 500)).toBeGreaterThanOrEqual(495);
    expect(countAbove(sketch, 500)).toBeLessThanOrEqual(505);
    expect(countAbove(sketch, 5000)).toBe(0);
    expect(countAbove(sketch, 0)).toBe(1000);
    expect(countAbove(sketch, -1)).toBe(1001);
  });
});

describe('sketch codec', () => {
  it('round-trips bins and counts, with approximate sum, min and max', () => {
    const values = latencies(3, 5_000);
    const sketch = newLatencySketch();
    for (const v of values) sketch.accept(v);
    sketch.accept(0);
    const decoded = decodeSketch(encodeSketch(sketch));
    expect(decoded).not.toBeNull();
    if (decoded === null) return;
    expect(decoded.count).toBe(sketch.count);
    expect(decoded.zeroCount).toBe(1);
    for (const q of QUANTILES) expect(decoded.getValueAtQuantile(q)).toBe(sketch.getValueAtQuantile(q));
    expect(decoded.sum / sketch.sum).toBeCloseTo(1, 1);
    expect(decoded.min).toBe(0);
    expect(Math.abs(decoded.max - sketch.max) / sketch.max).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-12);
    // Still mergeable with live sketches.
    decoded.merge(sketch);
    expect(decoded.count).toBe(2 * sketch.count);
  });

  it('round-trips an empty sketch', () => {
    const decoded = decodeSketch(encodeSketch(newLatencySketch()));
    expect(decoded?.count).toBe(0);
  });

  it('writes the DDSketch protobuf layout: mapping first, with gamma as a double', () => {
    const bytes = encodeSketch(newLatencySketch());
    // field 1 (mapping), length-delimited; inside it field 1 (gamma), fixed64.
    expect(bytes[0]).toBe(0x0a);
    expect(bytes[2]).toBe(0x09);
    const gamma = new DataView(bytes.buffer, bytes.byteOffset + 3, 8).getFloat64(0, true);
    expect(gamma).toBe(newLatencySketch().mapping.gamma);
  });

  it('refuses malformed bytes and sketches of another accuracy', () => {
    expect(decodeSketch(Uint8Array.of(0x0a, 0x20, 0x09))).toBeNull();
    const coarse = new DDSketch({ relativeAccuracy: 0.05 });
    coarse.accept(10);
    expect(decodeSketch(encodeSketch(coarse))).toBeNull();
  });
});
