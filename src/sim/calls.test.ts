/**
 * Calls between services: retries, timeouts, error propagation, CPU accounting, routing. Small
 * networks whose figures can be worked out by hand; fixed seeds; tolerances about four standard
 * errors of each estimate for the request counts used.
 */
import { describe, expect, it } from 'vitest';
import { network, revision, service } from './builders.js';
import type { RevisionStats, ServiceStats, SimCall, SimRunResult, SimService } from './model.js';
import { simulate } from './simulate.js';

const stats = (result: SimRunResult, s: number): ServiceStats => {
  const found = result.services[s];
  if (found === undefined) throw new Error(`no stats for service ${s}`);
  return found;
};
const rev = (result: SimRunResult, s: number, r = 0): RevisionStats => {
  const found = stats(result, s).revisions[r];
  if (found === undefined) throw new Error(`no stats for revision ${r} of service ${s}`);
  return found;
};
const fast = { kind: 'exponential', meanMs: 0.2 } as const;
/** A front service that does no work of its own and never queues, calling as told. */
const front = (calls: readonly SimCall[]): SimService =>
  service('front', [revision({ kind: 'deterministic', ms: 0 }, { concurrency: 100_000 })], { calls });
const wide = { concurrency: 100_000 } as const;

describe('retries', () => {
  it('a callee failing with p = 0.3, retried twice: 1 + p + p² attempts per call, p³ of calls fail', () => {
    const p = 0.3;
    const callee = service('callee', [revision(fast, { ...wide, errorProbability: p })], { retries: 2 });
    const result = simulate(
      network([front([{ service: 1, perRequest: 1, mode: 'sequential' }]), callee], {
        ratePerSec: 2000,
        durationMs: 20_000,
      }),
      1,
    );
    const calls = stats(result, 1);
    expect(calls.calls).toBe(result.entry.requests);
    expect(Math.abs(calls.retryAmplification - (1 + p + p * p))).toBeLessThan(0.015);
    expect(Math.abs(result.entry.errorRate - p ** 3)).toBeLessThan(0.005);
    expect(Math.abs(rev(result, 1).errorRate - p)).toBeLessThan(0.01);
    expect(stats(result, 0).retryAmplification).toBe(1);
  });

  it('a deterministic callee slower than the timeout: every call makes retries + 1 attempts and fails', () => {
    const callee = service(
      'slow',
      [revision({ kind: 'deterministic', ms: 100 }, { ...wide, cpuMsPerRequest: 1 })],
      {
        timeoutMs: 50,
        retries: 2,
      },
    );
    const result = simulate(
      network([front([{ service: 1, perRequest: 1, mode: 'sequential' }]), callee], {
        ratePerSec: 100,
        durationMs: 20_000,
        warmupMs: 1000,
      }),
      2,
    );
    const calls = stats(result, 1);
    const slow = rev(result, 1);
    // Exactly 3 attempts per call, up to the edges of the measured window: retries of calls made
    // in the last 100 ms of warm-up count as attempts, and calls made in the last 100 ms of the
    // run have not made all theirs (~10 of ~2,000 calls at each edge).
    expect(Math.abs(calls.retryAmplification - 3)).toBeLessThan(0.015);
    expect(result.entry.errorRate).toBeGreaterThan(0.99);
    expect(slow.timeouts / slow.requests).toBeGreaterThan(0.99);
    expect(slow.errors).toBe(0); // abandoned attempts do not count again when they finish
    // Latency as the caller saw it is capped at the timeout; the caller waited 3 × 50 ms.
    expect(Math.abs(slow.latencyMs.p99 / 50 - 1)).toBeLessThan(0.01);
    expect(Math.abs(result.entry.latencyMs.mean / 150 - 1)).toBeLessThan(1e-9);
    // The callee keeps working: 300 attempts/s × 1 ms of CPU on one core.
    expect(Math.abs(slow.cpuUtilisation / 0.3 - 1)).toBeLessThan(0.03);
  });

  it('a callee that answers in time is never timed out and costs one attempt per call', () => {
    const callee = service('ok', [revision({ kind: 'deterministic', ms: 10 }, wide)], {
      timeoutMs: 50,
      retries: 3,
    });
    const result = simulate(
      network([front([{ service: 1, perRequest: 1, mode: 'sequential' }]), callee], {
        ratePerSec: 500,
        durationMs: 10_000,
      }),
      3,
    );
    expect(stats(result, 1).retryAmplification).toBe(1);
    expect(rev(result, 1).timeouts).toBe(0);
    expect(result.entry.errorRate).toBe(0);
  });
});

describe('error propagation', () => {
  it('a failed call fails its caller, which makes no further calls', () => {
    // front → A; A calls B then C in sequence; B fails one request in five.
    const a = service('a', [revision(fast, wide)], {
      calls: [
        { service: 2, perRequest: 1, mode: 'sequential' },
        { service: 3, perRequest: 1, mode: 'sequential' },
      ],
    });
    const b = service('b', [revision(fast, { ...wide, errorProbability: 0.2 })]);
    const c = service('c', [revision(fast, wide)]);
    const result = simulate(
      network([front([{ service: 1, perRequest: 1, mode: 'sequential' }]), a, b, c], {
        ratePerSec: 2000,
        durationMs: 20_000,
      }),
      4,
    );
    expect(Math.abs(rev(result, 1).errorRate - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(result.entry.errorRate - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(stats(result, 3).calls / stats(result, 1).calls - 0.8)).toBeLessThan(0.01);
    expect(rev(result, 3).errors).toBe(0);
  });

  it('parallel calls: one failure fails the caller (1 − 0.8² of requests)', () => {
    const b = service('b', [revision(fast, { ...wide, errorProbability: 0.2 })]);
    const result = simulate(
      network([front([{ service: 1, perRequest: 2, mode: 'parallel' }]), b], {
        ratePerSec: 2000,
        durationMs: 20_000,
      }),
      5,
    );
    expect(Math.abs(result.entry.errorRate - 0.36)).toBeLessThan(0.015);
    expect(Math.abs(stats(result, 1).calls / result.entry.requests - 2)).toBeLessThan(0.001);
  });

  it('fractional perRequest: floor calls plus one with the probability of the fraction', () => {
    const b = service('b', [revision(fast, wide)]);
    const result = simulate(
      network([front([{ service: 1, perRequest: 1.25, mode: 'sequential' }]), b], {
        ratePerSec: 2000,
        durationMs: 20_000,
      }),
      6,
    );
    expect(Math.abs(stats(result, 1).calls / result.entry.requests - 1.25)).toBeLessThan(0.01);
  });
});

describe('accounting', () => {
  it('CPU utilisation = λ · cpuMs / (replicas · cores); slot utilisation = λ · E[S] / (replicas · slots)', () => {
    const station = revision(
      { kind: 'lognormal', medianMs: 2, sigma: 0.5 },
      {
        replicas: 2,
        concurrency: 4,
        cpuCores: 0.5,
        cpuMsPerRequest: 3,
      },
    );
    const result = simulate(
      network([service('s', [station])], { ratePerSec: 200, durationMs: 200_000, warmupMs: 1000 }),
      7,
    );
    const s = rev(result, 0);
    expect(Math.abs(s.cpuUtilisation / ((200 * 3) / 1000 / (2 * 0.5)) - 1)).toBeLessThan(0.02);
    const meanService = 2 * Math.exp(0.125);
    expect(Math.abs(s.slotUtilisation / ((0.2 * meanService) / 8) - 1)).toBeLessThan(0.02);
  });

  it('splits requests across revisions by share and across replicas round-robin', () => {
    const svc = service('s', [
      revision(fast, { name: 'stable', share: 0.75, replicas: 3 }),
      revision(fast, { name: 'canary', share: 0.25, replicas: 1 }),
    ]);
    const result = simulate(network([svc], { ratePerSec: 1000, durationMs: 40_000 }), 8);
    const [stable, canary] = [rev(result, 0, 0), rev(result, 0, 1)];
    expect(stable.requests + canary.requests).toBe(result.entry.requests);
    expect(Math.abs(canary.requests / result.entry.requests - 0.25)).toBeLessThan(0.01);
    // Round-robin spreads load evenly: utilisation per slot is the same for both pools.
    expect(Math.abs(stable.slotUtilisation / canary.slotUtilisation - 1)).toBeLessThan(0.03);
  });

  it('follows piecewise-constant arrival rates', () => {
    const svc = service('s', [revision(fast, wide)]);
    const model = {
      ...network([svc], { ratePerSec: 1000, durationMs: 30_000 }),
      arrivals: {
        ratePerSec: 1000,
        segments: [
          { fromMs: 10_000, multiplier: 0 },
          { fromMs: 20_000, multiplier: 3 },
        ],
      },
    };
    const result = simulate(model, 9);
    // 10 s at 1000/s, 10 s at 0, 10 s at 3000/s.
    expect(Math.abs(result.entry.requests / 40_000 - 1)).toBeLessThan(0.02);
  });
});
