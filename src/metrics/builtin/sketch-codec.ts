/**
 * Serializes latency sketches in the DDSketch protobuf format (the schema the sketch library and
 * Datadog's other implementations share), so persisted minutes stay readable by other tools.
 *
 * Decoding restores the bins; the exact sum, min and max are not part of the format, so a decoded
 * sketch carries approximations of them computed from its bins.
 */
import type { DDSketch } from '@datadog/sketches-js';
import { newLatencySketch } from './sketch.js';
import { ProtoReader, ProtoWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-wire.js';

type DenseStore = DDSketch['store'];

// Field numbers of the DDSketch, IndexMapping and Store messages.
const SKETCH_MAPPING = 1;
const SKETCH_POSITIVE = 2;
const SKETCH_NEGATIVE = 3;
const SKETCH_ZERO_COUNT = 4;
const MAPPING_GAMMA = 1;
const MAPPING_INDEX_OFFSET = 2;
const MAPPING_INTERPOLATION = 3;
const STORE_BIN_COUNTS = 1;
const STORE_CONTIGUOUS_COUNTS = 2;
const STORE_CONTIGUOUS_OFFSET = 3;
const INTERPOLATION_NONE = 0;
// Our sketches use the library's logarithmic mapping, which never shifts keys.
const INDEX_OFFSET = 0;

export function encodeSketch(sketch: DDSketch): Uint8Array {
  const w = new ProtoWriter();
  w.message(SKETCH_MAPPING, (m) => {
    m.tag(MAPPING_GAMMA, WIRE_FIXED64);
    m.double(sketch.mapping.gamma);
    m.tag(MAPPING_INDEX_OFFSET, WIRE_FIXED64);
    m.double(INDEX_OFFSET);
    m.tag(MAPPING_INTERPOLATION, WIRE_VARINT);
    m.varint(INTERPOLATION_NONE);
  });
  w.message(SKETCH_POSITIVE, (s) => writeStore(s, sketch.store));
  w.message(SKETCH_NEGATIVE, (s) => writeStore(s, sketch.negativeStore));
  w.tag(SKETCH_ZERO_COUNT, WIRE_FIXED64);
  w.double(sketch.zeroCount);
  return w.finish();
}

function writeStore(w: ProtoWriter, store: DenseStore): void {
  if (store.count === 0) return;
  w.message(STORE_CONTIGUOUS_COUNTS, (packed) => {
    for (let key = store.minKey; key <= store.maxKey; key++) {
      packed.double(store.bins[key - store.offset] ?? 0);
    }
  });
  w.tag(STORE_CONTIGUOUS_OFFSET, WIRE_VARINT);
  w.sint(store.minKey);
}

/**
 * Returns null when there are no bytes, when they are malformed, or when they were written with
 * another mapping (such a sketch could not be merged with ours).
 */
export function decodeSketch(bytes: Uint8Array | null): DDSketch | null {
  if (bytes === null) return null;
  try {
    return decode(bytes);
  } catch {
    return null;
  }
}

interface Bin {
  readonly key: number;
  readonly count: number;
}

function decode(bytes: Uint8Array): DDSketch | null {
  const sketch = newLatencySketch();
  let gamma = Number.NaN;
  let indexOffset = 0;
  let interpolation = INTERPOLATION_NONE;
  let positive: Bin[] = [];
  let negative: Bin[] = [];
  let zeroCount = 0;
  const r = new ProtoReader(bytes);
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === SKETCH_MAPPING && wire === WIRE_LEN) {
      const m = r.sub();
      while (!m.done()) {
        const t = m.varint();
        const f = Math.floor(t / 8);
        if (f === MAPPING_GAMMA && t % 8 === WIRE_FIXED64) gamma = m.double();
        else if (f === MAPPING_INDEX_OFFSET && t % 8 === WIRE_FIXED64) indexOffset = m.double();
        else if (f === MAPPING_INTERPOLATION && t % 8 === WIRE_VARINT) interpolation = m.varint();
        else m.skip(t % 8);
      }
    } else if (field === SKETCH_POSITIVE && wire === WIRE_LEN) positive = readStore(r.sub());
    else if (field === SKETCH_NEGATIVE && wire === WIRE_LEN) negative = readStore(r.sub());
    else if (field === SKETCH_ZERO_COUNT && wire === WIRE_FIXED64) zeroCount = r.double();
    else r.skip(wire);
  }
  const { mapping } = sketch;
  const sameMapping =
    Math.abs(gamma - mapping.gamma) <= 1e-12 * mapping.gamma &&
    indexOffset === INDEX_OFFSET &&
    interpolation === INTERPOLATION_NONE;
  if (!sameMapping || !(zeroCount >= 0)) return null;
  if (!plausibleSpan(positive) || !plausibleSpan(negative)) return null;

  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const add = (store: DenseStore, bins: readonly Bin[], sign: number): boolean => {
    for (const { key, count } of bins) {
      if (!(count >= 0) || !Number.isInteger(key)) return false;
      if (count === 0) continue;
      store.add(key, count);
      const value = sign * mapping.value(key);
      sum += value * count;
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    return true;
  };
  if (!add(sketch.store, positive, 1) || !add(sketch.negativeStore, negative, -1)) return null;
  if (zeroCount > 0) {
    min = Math.min(min, 0);
    max = Math.max(max, 0);
  }
  sketch.zeroCount = zeroCount;
  sketch.count = sketch.store.count + sketch.negativeStore.count + zeroCount;
  sketch.sum = sum;
  sketch.min = min;
  sketch.max = max;
  return sketch;
}

/**
 * Dense stores allocate one slot per key between the extremes, so corrupt keys far apart could
 * exhaust memory. Latencies from a nanosecond to a month span about 1,500 keys at 1% accuracy.
 */
const MAX_KEY_SPAN = 20_000;

function plausibleSpan(bins: readonly Bin[]): boolean {
  let lo = Infinity;
  let hi = -Infinity;
  for (const { key, count } of bins) {
    if (count === 0) continue;
    lo = Math.min(lo, key);
    hi = Math.max(hi, key);
  }
  return hi - lo <= MAX_KEY_SPAN;
}

function readStore(r: ProtoReader): Bin[] {
  const sparse: Bin[] = [];
  const contiguous: number[] = [];
  let offset = 0;
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === STORE_BIN_COUNTS && wire === WIRE_LEN) {
      const entry = r.sub();
      let key = 0;
      let count = 0;
      while (!entry.done()) {
        const t = entry.varint();
        if (Math.floor(t / 8) === 1 && t % 8 === WIRE_VARINT) key = entry.sint();
        else if (Math.floor(t / 8) === 2 && t % 8 === WIRE_FIXED64) count = entry.double();
        else entry.skip(t % 8);
      }
      sparse.push({ key, count });
    } else if (field === STORE_CONTIGUOUS_COUNTS && wire === WIRE_LEN) {
      const packed = r.sub();
      while (!packed.done()) contiguous.push(packed.double());
    } else if (field === STORE_CONTIGUOUS_COUNTS && wire === WIRE_FIXED64) {
      contiguous.push(r.double());
    } else if (field === STORE_CONTIGUOUS_OFFSET && wire === WIRE_VARINT) {
      offset = r.sint();
    } else r.skip(wire);
  }
  return [...sparse, ...contiguous.map((count, i) => ({ key: offset + i, count }))];
}
