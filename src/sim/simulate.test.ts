import { describe, expect, it } from 'vitest';
import { network, revision, service } from './builders.js';
import { SimModelError } from './compile.js';
import type { SimModel } from './model.js';
import { simulate } from './simulate.js';
import { mixedModel } from './test-fixtures.js';

describe('simulate', () => {
  it('is deterministic: the same seed gives an identical result, another seed a different one', () => {
    const first = simulate(mixedModel, 42);
    expect(simulate(mixedModel, 42)).toEqual(first);
    const other = simulate(mixedModel, 43);
    expect(other.seed).toBe(43);
    expect(other.entry).not.toEqual(first.entry);
    expect(other.events).not.toBe(first.events);
  });

  it('fills every figure of the result', () => {
    const result = simulate(mixedModel, 1);
    expect(result.events).toBeGreaterThan(0);
    expect(result.entry.requests).toBeGreaterThan(7000);
    for (const s of result.services) {
      expect(s.calls).toBeGreaterThan(0);
      expect(s.retryAmplification).toBeGreaterThanOrEqual(1);
      for (const r of s.revisions) {
        expect(r.requests).toBeGreaterThan(0);
        for (const v of [
          r.latencyMs.p50,
          r.latencyMs.p95,
          r.latencyMs.p99,
          r.latencyMs.mean,
          r.slotUtilisation,
        ])
          expect(v).toBeGreaterThan(0);
        expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p95);
        expect(r.latencyMs.p95).toBeLessThanOrEqual(r.latencyMs.p99);
        expect(r.errorRate).toBeGreaterThanOrEqual(0);
        expect(r.errorRate).toBeLessThanOrEqual(1);
        expect(r.maxQueueLength).toBeGreaterThanOrEqual(r.meanQueueLength);
      }
    }
    // catalog v2 is slow one time in three (40 ms > 30 ms timeout) and retried once.
    const catalog = result.services[1];
    expect(catalog?.revisions[1]?.timeouts).toBeGreaterThan(0);
    expect(catalog?.retryAmplification).toBeGreaterThan(1);
  });

  it('counts only what arrives after warm-up, and not requests still in flight as errors', () => {
    // One slow station (deterministic 1 s) with a 100 ms warm-up and 1 s measured: requests
    // arriving in the last second cannot finish, and none are errors.
    const model = network(
      [service('slow', [revision({ kind: 'deterministic', ms: 1000 }, { concurrency: 1000 })])],
      {
        ratePerSec: 100,
        durationMs: 1000,
        warmupMs: 100,
      },
    );
    const result = simulate(model, 3);
    const slow = result.services[0]?.revisions[0];
    expect(Math.abs(result.entry.requests - 100)).toBeLessThan(40);
    expect(result.entry.errorRate).toBe(0);
    expect(result.entry.latencyMs.mean).toBe(0); // no measured request finished
    expect(slow?.latencyMs.p50).toBe(0); // nothing measured finished within the window
    expect(slow?.cpuUtilisation).toBe(0);
  });

  it('rejects invalid models with the offending field named', () => {
    const station = service('s', [revision({ kind: 'exponential', meanMs: 1 })]);
    const bad = (patch: Partial<SimModel>): (() => unknown) => {
      const model: SimModel = { ...network([station], { ratePerSec: 1, durationMs: 1 }), ...patch };
      return () => simulate(model, 1);
    };
    expect(bad({ entrypoint: 3 })).toThrow(/entrypoint/);
    expect(bad({ durationMs: 0 })).toThrow(SimModelError);
    expect(
      bad({ services: [service('s', [revision({ kind: 'exponential', meanMs: 1 }, { share: 0.5 })])] }),
    ).toThrow(/shares must sum to 1/);
    expect(
      bad({ services: [service('s', [revision({ kind: 'exponential', meanMs: 1 }, { replicas: 0 })])] }),
    ).toThrow(/services\[0\]\.revisions\[0\]\.replicas/);
    const loop = [
      service('a', [revision({ kind: 'exponential', meanMs: 1 })], {
        calls: [{ service: 1, perRequest: 1, mode: 'sequential' }],
      }),
      service('b', [revision({ kind: 'exponential', meanMs: 1 })], {
        calls: [{ service: 0, perRequest: 1, mode: 'sequential' }],
      }),
    ];
    expect(bad({ services: loop })).toThrow(/cycle \(a → b → a\)/);
  });
});
