import { describe, expect, it } from 'vitest';
import { SidedConformal } from './aci.js';
import { fitCqr } from './cqr.js';
import {
  type ModelVersion,
  loadModel,
  parseAciState,
  parseModelVersion,
  toModelVersion,
} from './serialize.js';
import { rowOf, synthetic } from './test-fixtures.js';
import { trainModel } from './train.js';

const data = synthetic(1_500, 21, { cols: 4 });
const featureNames = ['rate', 'cpu', 'p99', 'replicas'];
const rows = Array.from({ length: data.rows }, (_, r) => ({
  at: 1_700_000_000_000 + r * 60_000,
  features: Array.from(rowOf(data, r)),
  target: data.y[r] as number,
}));
const version = trainModel(rows, { featureNames, gbdt: { trees: 60 }, seed: 4 });

describe('model versions', () => {
  it('round-trip through JSON text with exactly the same predictions', () => {
    const text = JSON.stringify(version);
    const parsed = parseModelVersion(JSON.parse(text));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toEqual(version);
    const before = loadModel(version);
    const after = loadModel(parsed.value);
    const probe = synthetic(500, 22, { cols: 4 });
    for (let r = 0; r < probe.rows; r++) {
      const x = rowOf(probe, r);
      expect(after.interval(x)).toEqual(before.interval(x));
      expect(after.lower.predict(x)).toBe(before.lower.predict(x));
    }
    expect(JSON.stringify(after.toJSON())).toBe(JSON.stringify(version.model));
  });

  it('carries the metadata: id from the content, span, rows, features, validation, settings', () => {
    expect(version.format).toBe('augur-model/2');
    expect(version.id).toMatch(/^m-[0-9a-f]{16}$/);
    expect(trainModel(rows, { featureNames, gbdt: { trees: 60 }, seed: 4 }).id).toBe(version.id);
    expect(trainModel(rows, { featureNames, gbdt: { trees: 60 }, seed: 5 }).id).not.toBe(version.id);
    expect(trainModel(rows, { featureNames, gbdt: { trees: 60 }, id: 'v7' }).id).toBe('v7');
    // The latest 20% by time are held out: 300 rows, so the fitted span ends at row 1,199.
    expect(version.rows).toBe(1_200);
    expect(version.trainingSpan).toEqual({ from: 1_700_000_000_000, to: 1_700_000_000_000 + 1_199 * 60_000 });
    expect(version.featureNames).toEqual(featureNames);
    expect(version.validation?.n).toBe(300);
    expect(version.validation?.coverage).toBeGreaterThan(0.8);
    expect(version.validation?.meanWidth).toBeGreaterThan(0);
    expect(version.settings).toEqual({
      alpha: 0.1,
      calibrationFraction: 0.3,
      validationFraction: 0.2,
      seed: 4,
      linearBase: false,
      gbdt: { trees: 60, depth: 4, learningRate: 0.1, minLeaf: 20, bins: 128, subsample: 0.8, l2: 1 },
    });
    expect(version.model.calibration.n).toBe(360);
  });

  it('round-trips a version whose quantile models sit on a linear base, and reads older settings', () => {
    const lined = trainModel(rows, { featureNames, gbdt: { trees: 60 }, seed: 4, linearBase: true });
    expect(lined.settings.linearBase).toBe(true);
    expect(lined.model.linear?.weights).toHaveLength(4);
    expect(lined.id).not.toBe(version.id);
    const parsed = parseModelVersion(JSON.parse(JSON.stringify(lined)));
    expect(parsed.ok && parsed.value).toEqual(lined);
    const before = loadModel(lined);
    const after = loadModel(parsed.ok ? parsed.value : version);
    const probe = synthetic(200, 23, { cols: 4 });
    for (let r = 0; r < probe.rows; r++) {
      const x = rowOf(probe, r);
      expect(after.interval(x)).toEqual(before.interval(x));
      expect(after.frame(x)).toEqual(before.frame(x));
    }
    // A version written before the linear base existed has no `linearBase` setting: read as false.
    const older = JSON.parse(JSON.stringify(version)) as { settings: Record<string, unknown> };
    delete older.settings.linearBase;
    const read = parseModelVersion(older);
    expect(read.ok && read.value.settings.linearBase).toBe(false);
    // A damaged linear base is refused like damaged trees.
    const damaged = JSON.parse(JSON.stringify(lined)) as { model: { linear: { weights: number[] } } };
    damaged.model.linear.weights.pop();
    const refused = parseModelVersion(damaged);
    expect(refused.ok ? '' : refused.error.message).toMatch(/linear base/);
  });

  it('refuses damaged records with a code and the place', () => {
    const damaged = (change: (v: Record<string, unknown>) => void): string => {
      const copy = JSON.parse(JSON.stringify(version)) as Record<string, unknown>;
      change(copy);
      const result = parseModelVersion(copy);
      expect(result.ok).toBe(false);
      return result.ok ? '' : `${result.error.code}: ${result.error.message}`;
    };
    expect(damaged((v) => (v.format = 'augur-model/0'))).toMatch(
      /^MODEL_FORMAT: invalid model version at format/,
    );
    expect(damaged((v) => delete v.validation)).toMatch(/at validation/);
    expect(damaged((v) => (v.featureNames = ['a']))).toMatch(/1 feature names for a model of 4 features/);
    expect(
      damaged((v) => {
        const model = v.model as { lower: { left: number[] } };
        model.lower.left = model.lower.left.map(() => 0);
      }),
    ).toMatch(/child/);
    expect(
      damaged((v) => {
        const model = v.model as { upper: { value: (number | null)[] } };
        model.upper.value[0] = null; // what JSON makes of NaN
      }),
    ).toMatch(/at model.upper.value.0/);
  });

  it('builds a version from a fitted model directly', () => {
    const model = fitCqr(data, { gbdt: { trees: 10 } });
    const content = {
      trainingSpan: { from: 0, to: 1 },
      rows: data.rows,
      featureNames,
      validation: null,
      settings: version.settings,
      model: model.toJSON(),
    };
    const v: ModelVersion = toModelVersion(content);
    expect(v.id).toBe(toModelVersion(content).id);
    expect(() => toModelVersion({ ...content, featureNames: ['x'] })).toThrow(/feature names/);
  });
});

describe('parseAciState', () => {
  it('restores a state written by toJSON and refuses a damaged one', () => {
    const aci = SidedConformal.create({
      alpha: 0.1,
      initialScores: { below: [0.1, -0.2, 0.3], above: [-0.1, 0.2, -0.3] },
    });
    aci.update({ centre: 0, scale: 1 }, 2);
    const restored = parseAciState(JSON.parse(JSON.stringify(aci)));
    expect(restored.ok && restored.value.toJSON()).toEqual(aci.toJSON());
    const state = aci.toJSON();
    const broken = parseAciState({ ...state, above: { ...state.above, window: 0 } });
    expect(broken.ok ? '' : broken.error.message).toMatch(/at above\.window/);
    const overfull = parseAciState({ ...state, below: { ...state.below, window: 2 } });
    expect(overfull.ok ? '' : overfull.error.message).toMatch(/more scores than the window/);
    // A one-sided state (an older Augur's) is refused: its model set is refused too.
    const older = parseAciState(state.below);
    expect(older.ok).toBe(false);
  });
});
