import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../config/types.js';
import { ManualClock } from '../core/clock.js';
import { BuiltinMetrics } from '../metrics/builtin/builtin-metrics.js';
import { FEATURE_NAMES, NO_RECENT, type RecentRecord } from './features.js';
import type { CalibratedRanges } from './model-set.js';
import { ModelPredictionSource } from './prediction-source.js';

const T0 = 1_700_000_000_000;

const cart = {
  name: 'cart',
  stable: 'v1',
  revisions: { v1: { name: 'v1' }, v2: { name: 'v2' } },
  resources: { replicas: 1, concurrency: 8, cpu: 0.5 },
  policies: { timeoutMs: 1_000, retries: 0 },
  calls: [],
  limits: {},
} as unknown as ServiceConfig;

/** The service's record as a running model remembers it: 40 windows, p99 30% above simulated. */
const SERVICE_RECORD: RecentRecord = {
  windows: 40,
  own: false,
  figures: {
    ...NO_RECENT.figures,
    latencyP99Ms: { level: Math.log(1.3), spread: 0.1, last: Math.log(1.25) },
  },
};

/** Ranges that record what they are asked: the features of each range and each recent lookup. */
function recordingRanges() {
  const asked: { features: readonly number[]; service: string }[] = [];
  const lookups: { service: string; revision: string; at: number }[] = [];
  const ranges = {
    recent: (service: string, revision: string, at: number) => {
      lookups.push({ service, revision, at });
      return SERVICE_RECORD;
    },
    range: (_metric: string, simulated: number, features: readonly number[], service: string) => {
      asked.push({ features, service });
      return { low: simulated / 2, high: simulated * 2, source: 'learned' };
    },
  } as unknown as CalibratedRanges;
  return { ranges, asked, lookups };
}

describe('the model prediction source', () => {
  it("asks the model with a training row's features, the canary's recent record included", async () => {
    const clock = new ManualClock(T0);
    const metrics = new BuiltinMetrics({ clock });
    for (let s = 0; s < 60; s++) {
      for (let i = 0; i < 20; i++) {
        const revision = s >= 30 && i % 2 === 0 ? 'v2' : 'v1';
        metrics.requestStarted('cart', revision);
        metrics.requestEnded('cart', revision, 8 + (i % 5), 200, 'ok');
      }
      clock.advance(1_000);
    }
    const { ranges, asked, lookups } = recordingRanges();
    const source = new ModelPredictionSource(metrics, () => ranges, null, { profileWindowMs: 30_000 });
    const from = T0 + 30_000;
    const edge = await source.predict(cart, 'v1', 'v2', from, from + 10_000);
    expect(edge).toMatchObject({ nominalTail: 0.05, per: 'window' });
    expect(lookups).toEqual([{ service: 'cart', revision: 'v2', at: from }]);
    expect(asked).toHaveLength(1);
    const features = asked[0]?.features ?? [];
    const at = (name: string) => features[(FEATURE_NAMES as readonly string[]).indexOf(name)];
    // Without the record the row would say "nothing seen lately" (0 windows, level 0): a row no
    // training window looks like once the service has served for a while.
    expect(at('recentWindows')).toBeCloseTo(Math.log1p(40), 12);
    expect(at('recentLevel.latencyP99Ms')).toBeCloseTo(Math.log(1.3), 12);
    expect(at('recentLast.latencyP99Ms')).toBeCloseTo(Math.log(1.25), 12);
    expect(at('revisionAgeHours')).toBe(0);
    // A later window of the same canary is as old as the time since its first.
    await source.predict(cart, 'v1', 'v2', from + 18_000, from + 28_000);
    expect(asked[1]?.features[FEATURE_NAMES.indexOf('revisionAgeHours')]).toBeCloseTo(18 / 3600, 12);
  });
});
