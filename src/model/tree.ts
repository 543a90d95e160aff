import type { BinnedFeatures } from './bins.js';

/** Nodes of all trees of a model, appended as trees grow; a leaf has feature −1. */
export class NodeStore {
  readonly feature: number[] = [];
  /** Split bin (training only): left when code ≤ bin. */
  readonly bin: number[] = [];
  /** Split value on raw features: left when value ≤ threshold. */
  readonly threshold: number[] = [];
  readonly left: number[] = [];
  readonly right: number[] = [];
  readonly value: number[] = [];

  add(feature: number, bin: number, threshold: number, value: number): number {
    this.feature.push(feature);
    this.bin.push(bin);
    this.threshold.push(threshold);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(value);
    return this.feature.length - 1;
  }
}

export interface GrowParams {
  readonly depth: number;
  readonly minLeaf: number;
  readonly l2: number;
  readonly learningRate: number;
  readonly quantile: number;
}

interface Histogram {
  readonly gradient: Float64Array;
  readonly count: Int32Array;
}

/**
 * Grows one depth-limited regression tree on the gradients of the pinball loss, from histograms
 * of the binned features, and sets each leaf to the τ-quantile of the residuals that reach it
 * (scaled by the learning rate and shrunk by n/(n + λ)). A child's histogram is built only for
 * the smaller child; the larger one's is the parent's minus it. Buffers are allocated once per
 * model and reused by every tree.
 */
export class TreeGrower {
  private readonly data: BinnedFeatures;
  private readonly params: GrowParams;
  private readonly stride: number;
  private readonly binCount: Int32Array;
  private readonly scratch: Uint32Array;
  private readonly sample: Float64Array;
  private readonly pool: Histogram[] = [];
  private rows: Uint32Array = new Uint32Array(0);
  private gradient: Float64Array = new Float64Array(0);
  private residual: Float64Array = new Float64Array(0);
  private nodes: NodeStore = new NodeStore();

  constructor(data: BinnedFeatures, params: GrowParams) {
    this.data = data;
    this.params = params;
    this.binCount = Int32Array.from(data.edges, (e) => e.length + 1);
    this.stride = Math.max(...this.binCount);
    this.scratch = new Uint32Array(data.rows);
    this.sample = new Float64Array(data.rows);
  }

  /**
   * Grows a tree over rows[0, count) (row indices, ascending; reordered in place) and returns its
   * root's index in `nodes`.
   */
  grow(
    rows: Uint32Array,
    count: number,
    gradient: Float64Array,
    residual: Float64Array,
    nodes: NodeStore,
  ): number {
    this.rows = rows;
    this.gradient = gradient;
    this.residual = residual;
    this.nodes = nodes;
    return this.node(0, count, 0, null);
  }

  private node(start: number, end: number, depth: number, given: Histogram | null): number {
    const { minLeaf, depth: maxDepth } = this.params;
    const n = end - start;
    if (depth >= maxDepth || n < 2 * minLeaf) {
      if (given !== null) this.release(given);
      return this.leaf(start, end);
    }
    const hist = given ?? this.histogram(start, end);
    const split = this.bestSplit(hist, n);
    if (split === null) {
      this.release(hist);
      return this.leaf(start, end);
    }
    const mid = this.partition(start, end, split.feature, split.bin);
    const nLeft = mid - start;
    const nRight = end - mid;
    const leftGrows = depth + 1 < maxDepth && nLeft >= 2 * minLeaf;
    const rightGrows = depth + 1 < maxDepth && nRight >= 2 * minLeaf;
    let leftHist: Histogram | null = null;
    let rightHist: Histogram | null = null;
    if (leftGrows || rightGrows) {
      const small = nLeft <= nRight ? this.histogram(start, mid) : this.histogram(mid, end);
      subtract(hist, small);
      if (nLeft <= nRight) [leftHist, rightHist] = [small, hist];
      else [leftHist, rightHist] = [hist, small];
      if (!leftGrows) leftHist = this.release(leftHist);
      if (!rightGrows) rightHist = this.release(rightHist);
    } else {
      this.release(hist);
    }
    const threshold = this.data.edges[split.feature]?.[split.bin] ?? 0;
    const index = this.nodes.add(split.feature, split.bin, threshold, 0);
    this.nodes.left[index] = this.node(start, mid, depth + 1, leftHist);
    this.nodes.right[index] = this.node(mid, end, depth + 1, rightHist);
    return index;
  }

  private leaf(start: number, end: number): number {
    const { quantile, learningRate, l2 } = this.params;
    const n = end - start;
    const sample = this.sample.subarray(0, n);
    for (let k = start; k < end; k++) sample[k - start] = this.residual[this.rows[k] ?? 0] ?? 0;
    sample.sort();
    const q = sample[Math.min(n - 1, Math.max(0, Math.ceil(quantile * n - 1e-9) - 1))] ?? 0;
    return this.nodes.add(-1, 0, 0, (learningRate * q * n) / (n + l2));
  }

  private histogram(start: number, end: number): Histogram {
    const h = this.pool.pop() ?? {
      gradient: new Float64Array(this.data.cols * this.stride),
      count: new Int32Array(this.data.cols * this.stride),
    };
    h.gradient.fill(0);
    h.count.fill(0);
    const { codes, rows: total, cols } = this.data;
    const rows = this.rows;
    const gradient = this.gradient;
    const g = h.gradient;
    const c = h.count;
    for (let f = 0; f < cols; f++) {
      const column = codes.subarray(f * total, (f + 1) * total);
      const offset = f * this.stride;
      for (let k = start; k < end; k++) {
        const r = rows[k] as number;
        const b = offset + (column[r] as number);
        g[b] = (g[b] as number) + (gradient[r] as number);
        c[b] = (c[b] as number) + 1;
      }
    }
    return h;
  }

  private release(h: Histogram): null {
    this.pool.push(h);
    return null;
  }

  /**
   * The split with the largest reduction of the L2-regularised squared error of the gradients,
   * G_L²/(n_L+λ) + G_R²/(n_R+λ) − G²/(n+λ), each side keeping ≥ minLeaf rows. Ties keep the first
   * (lowest feature, then lowest bin), so the tree does not depend on anything but its input.
   */
  private bestSplit(h: Histogram, n: number): { feature: number; bin: number } | null {
    const { minLeaf, l2 } = this.params;
    let total = 0;
    for (let b = 0; b < this.stride; b++) total += h.gradient[b] ?? 0;
    const parent = (total * total) / (n + l2);
    let best = 1e-12;
    let feature = -1;
    let bin = -1;
    for (let f = 0; f < this.data.cols; f++) {
      const offset = f * this.stride;
      const bins = this.binCount[f] ?? 0;
      let gLeft = 0;
      let nLeft = 0;
      for (let b = 0; b + 1 < bins; b++) {
        gLeft += h.gradient[offset + b] ?? 0;
        nLeft += h.count[offset + b] ?? 0;
        const nRight = n - nLeft;
        if (nLeft < minLeaf) continue;
        if (nRight < minLeaf) break;
        const gRight = total - gLeft;
        const gain = (gLeft * gLeft) / (nLeft + l2) + (gRight * gRight) / (nRight + l2) - parent;
        if (gain > best) {
          best = gain;
          feature = f;
          bin = b;
        }
      }
    }
    return feature < 0 ? null : { feature, bin };
  }

  /** Stable partition of rows[start, end) by code ≤ bin; returns the first right-hand index. */
  private partition(start: number, end: number, feature: number, bin: number): number {
    const { codes, rows: total } = this.data;
    const rows = this.rows;
    const offset = feature * total;
    let write = start;
    let spill = 0;
    for (let k = start; k < end; k++) {
      const r = rows[k] as number;
      if ((codes[offset + r] as number) <= bin) rows[write++] = r;
      else this.scratch[spill++] = r;
    }
    rows.set(this.scratch.subarray(0, spill), write);
    return write;
  }
}

function subtract(from: Histogram, part: Histogram): void {
  const g = from.gradient;
  const c = from.count;
  for (let i = 0; i < g.length; i++) {
    g[i] = (g[i] as number) - (part.gradient[i] as number);
    c[i] = (c[i] as number) - (part.count[i] as number);
  }
}
