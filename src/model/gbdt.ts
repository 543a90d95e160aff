import { SeededRandom } from '../core/random.js';
import { MAX_BINS, binFeatures } from './bins.js';
import {
  type FeatureMatrix,
  type MatrixInput,
  type VectorInput,
  sampleQuantileInPlace,
  toMatrix,
  toVector,
} from './matrix.js';
import { NodeStore, TreeGrower } from './tree.js';

export interface GbdtOptions {
  /** τ in (0, 1): the conditional quantile the model estimates. */
  readonly quantile: number;
  /** Boosting rounds (trees); default 200. */
  readonly trees?: number;
  /** Maximum tree depth (a depth-d tree has ≤ 2^d leaves); default 4. */
  readonly depth?: number;
  /** Shrinkage applied to every leaf; default 0.1. */
  readonly learningRate?: number;
  /** Fewest in-sample rows a leaf may hold; default 20. */
  readonly minLeaf?: number;
  /** Quantile bins per feature, 2–255; default 128. */
  readonly bins?: number;
  /** Share of rows each tree sees (drawn per tree, seeded); default 0.8. */
  readonly subsample?: number;
  /** L2 penalty λ: split gain uses G²/(n+λ), a leaf value is shrunk by n/(n+λ); default 1. */
  readonly l2?: number;
  /** Seed of the row subsampling; default 1. */
  readonly seed?: number;
}

export type ResolvedGbdtOptions = Required<GbdtOptions>;

export const GBDT_DEFAULTS: Omit<ResolvedGbdtOptions, 'quantile'> = {
  trees: 200,
  depth: 4,
  learningRate: 0.1,
  minLeaf: 20,
  bins: 128,
  subsample: 0.8,
  l2: 1,
  seed: 1,
};

export function resolveGbdtOptions(options: GbdtOptions): ResolvedGbdtOptions {
  const o: ResolvedGbdtOptions = { ...GBDT_DEFAULTS, ...options };
  const check = (field: keyof ResolvedGbdtOptions, ok: boolean, rule: string): void => {
    if (!ok) throw new RangeError(`gbdt ${field} must be ${rule} (got ${o[field]})`);
  };
  check('quantile', o.quantile > 0 && o.quantile < 1, 'in (0, 1)');
  check('trees', Number.isInteger(o.trees) && o.trees >= 0, 'a whole number ≥ 0');
  check('depth', Number.isInteger(o.depth) && o.depth >= 1 && o.depth <= 12, 'a whole number in [1, 12]');
  check('learningRate', o.learningRate > 0 && o.learningRate <= 1, 'in (0, 1]');
  check('minLeaf', Number.isInteger(o.minLeaf) && o.minLeaf >= 1, 'a whole number ≥ 1');
  check(
    'bins',
    Number.isInteger(o.bins) && o.bins >= 2 && o.bins <= MAX_BINS,
    `a whole number in [2, ${MAX_BINS}]`,
  );
  check('subsample', o.subsample > 0 && o.subsample <= 1, 'in (0, 1]');
  check('l2', o.l2 >= 0 && Number.isFinite(o.l2), 'finite and ≥ 0');
  check('seed', Number.isInteger(o.seed), 'a whole number');
  return o;
}

/** A fitted model as plain JSON: all trees' nodes in flat parallel arrays, roots by tree. */
export interface GbdtJson {
  readonly kind: 'quantile-gbdt';
  readonly quantile: number;
  readonly featureCount: number;
  /** The constant every prediction starts from: the τ-quantile of the training targets. */
  readonly init: number;
  readonly roots: readonly number[];
  /** Split feature, −1 for a leaf. */
  readonly feature: readonly number[];
  /** Go left when x[feature] ≤ threshold (0 for a leaf). */
  readonly threshold: readonly number[];
  readonly left: readonly number[];
  readonly right: readonly number[];
  /** A leaf's contribution, learning rate included (0 for a split). */
  readonly value: readonly number[];
}

/**
 * Gradient-boosted regression trees for one conditional quantile. A prediction is `init` plus the
 * value of the leaf each tree sends x to, summed in tree order — the very sum boosting kept for
 * the training rows, so a training row's prediction equals its fitted value bit for bit.
 */
export class QuantileGbdt {
  readonly quantile: number;
  readonly featureCount: number;
  readonly init: number;
  private readonly roots: Int32Array;
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Float64Array;

  /** Takes the JSON form; checks it, so a damaged record cannot loop or read out of range. */
  constructor(json: GbdtJson) {
    checkGbdtJson(json);
    this.quantile = json.quantile;
    this.featureCount = json.featureCount;
    // `+ 0` turns −0 into 0, as JSON would: a model and its reloaded copy then agree even in
    // the sign of a zero.
    this.init = json.init + 0;
    this.roots = Int32Array.from(json.roots);
    this.feature = Int32Array.from(json.feature);
    this.threshold = Float64Array.from(json.threshold, (v) => v + 0);
    this.left = Int32Array.from(json.left);
    this.right = Int32Array.from(json.right);
    this.value = Float64Array.from(json.value, (v) => v + 0);
  }

  get treeCount(): number {
    return this.roots.length;
  }

  get nodeCount(): number {
    return this.feature.length;
  }

  /** The τ-quantile estimate at x (finite features expected: a NaN goes right at every split). */
  predict(x: ArrayLike<number>): number {
    if (x.length !== this.featureCount)
      throw new RangeError(`expected ${this.featureCount} features, got ${x.length}`);
    return this.predictAt(x, 0);
  }

  /** Predictions for every row of a matrix (row-major Float64Array or one array per row). */
  predictMany(input: MatrixInput): Float64Array {
    if (input instanceof Float64Array) {
      if (input.length % this.featureCount !== 0)
        throw new RangeError(
          `a flat matrix of ${input.length} values is not rows of ${this.featureCount} features`,
        );
      const rows = input.length / this.featureCount;
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) out[r] = this.predictAt(input, r * this.featureCount);
      return out;
    }
    return Float64Array.from(input, (row) => this.predict(row));
  }

  toJSON(): GbdtJson {
    return {
      kind: 'quantile-gbdt',
      quantile: this.quantile,
      featureCount: this.featureCount,
      init: this.init,
      roots: Array.from(this.roots),
      feature: Array.from(this.feature),
      threshold: Array.from(this.threshold),
      left: Array.from(this.left),
      right: Array.from(this.right),
      value: Array.from(this.value),
    };
  }

  private predictAt(x: ArrayLike<number>, offset: number): number {
    let sum = this.init;
    const { feature, threshold, left, right, value } = this;
    for (let t = 0; t < this.roots.length; t++) {
      let node = this.roots[t] as number;
      let f = feature[node] as number;
      while (f >= 0) {
        node =
          (x[offset + f] as number) <= (threshold[node] as number)
            ? (left[node] as number)
            : (right[node] as number);
        f = feature[node] as number;
      }
      sum += value[node] as number;
    }
    return sum;
  }
}

/**
 * Fits gradient-boosted trees under the pinball loss ρ_τ(u) = u·(τ − 1[u < 0]) (Friedman's
 * gradient boosting; the quantile variant of scikit-learn and LightGBM): start at the τ-quantile
 * of y; each round draws a row subsample, grows a tree on the negative gradients (τ where the
 * residual is positive, τ − 1 elsewhere), and sets each leaf to the τ-quantile of its residuals.
 * Deterministic: the same input and options give the same model.
 */
export function fitQuantileGbdt(X: MatrixInput, y: VectorInput, options: GbdtOptions): QuantileGbdt {
  const o = resolveGbdtOptions(options);
  const targets = toVector(y);
  if (targets.length === 0) throw new RangeError('cannot fit a model to no rows');
  return fitMatrix(toMatrix(X, targets.length), targets, o);
}

/** fitQuantileGbdt on an already checked matrix. */
export function fitMatrix(m: FeatureMatrix, y: Float64Array, o: ResolvedGbdtOptions): QuantileGbdt {
  const n = m.rows;
  const init = sampleQuantileInPlace(y.slice(), o.quantile);
  const binned = binFeatures(m, o.bins);
  const grower = new TreeGrower(binned, o);
  const nodes = new NodeStore();
  const roots: number[] = [];
  const fitted = new Float64Array(n).fill(init);
  const residual = new Float64Array(n);
  const gradient = new Float64Array(n);
  const rows = new Uint32Array(n);
  const random = new SeededRandom(o.seed);
  for (let t = 0; t < o.trees; t++) {
    let count = 0;
    for (let r = 0; r < n; r++) {
      const u = (y[r] as number) - (fitted[r] as number);
      residual[r] = u;
      gradient[r] = u > 0 ? o.quantile : o.quantile - 1;
      if (o.subsample >= 1 || random.next() < o.subsample) rows[count++] = r;
    }
    const root = grower.grow(rows, count, gradient, residual, nodes);
    roots.push(root);
    addTree(fitted, binned.codes, n, nodes, root);
  }
  return new QuantileGbdt({
    kind: 'quantile-gbdt',
    quantile: o.quantile,
    featureCount: m.cols,
    init,
    roots,
    feature: nodes.feature,
    threshold: nodes.threshold,
    left: nodes.left,
    right: nodes.right,
    value: nodes.value,
  });
}

/** Adds one tree's leaf values to every row's fitted value, walking the binned features. */
function addTree(fitted: Float64Array, codes: Uint8Array, n: number, nodes: NodeStore, root: number): void {
  const { feature, bin, left, right, value } = nodes;
  for (let r = 0; r < n; r++) {
    let node = root;
    let f = feature[node] as number;
    while (f >= 0) {
      node =
        (codes[f * n + r] as number) <= (bin[node] as number)
          ? (left[node] as number)
          : (right[node] as number);
      f = feature[node] as number;
    }
    fitted[r] = (fitted[r] as number) + (value[node] as number);
  }
}

/** Structural checks of a model record: lengths, finite numbers, children after their parent. */
export function checkGbdtJson(json: GbdtJson): void {
  const fail = (what: string): never => {
    throw new RangeError(`invalid quantile-gbdt model: ${what}`);
  };
  if (json.kind !== 'quantile-gbdt') fail(`kind ${String(json.kind)}`);
  if (!(json.quantile > 0 && json.quantile < 1)) fail('quantile outside (0, 1)');
  if (!(Number.isInteger(json.featureCount) && json.featureCount >= 1)) fail('featureCount');
  if (!Number.isFinite(json.init)) fail('init is not finite');
  const size = json.feature.length;
  for (const name of ['threshold', 'left', 'right', 'value'] as const)
    if (json[name].length !== size) fail(`${name} has ${json[name].length} entries, feature has ${size}`);
  for (let i = 0; i < size; i++) {
    const f = json.feature[i] as number;
    if (!Number.isFinite(json.threshold[i]) || !Number.isFinite(json.value[i])) fail(`node ${i} not finite`);
    if (f === -1) continue;
    if (!(Number.isInteger(f) && f >= 0 && f < json.featureCount)) fail(`node ${i} feature ${f}`);
    for (const child of [json.left[i] as number, json.right[i] as number])
      if (!(Number.isInteger(child) && child > i && child < size)) fail(`node ${i} child ${child}`);
  }
  for (const root of json.roots)
    if (!(Number.isInteger(root) && root >= 0 && root < size)) fail(`root ${root}`);
}
