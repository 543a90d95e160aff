/**
 * The engine against queueing theory. Seeds are fixed, so each check is deterministic; tolerances
 * are set at roughly three to four standard errors of the estimate for the run length used, plus
 * the histogram's 0.8% for quantiles. Times in ms; rates per ms in the formulas.
 */
import { describe, expect, it } from 'vitest';
import { mmcModel, network, revision, service } from './builders.js';
import type { RevisionStats, SimRunResult } from './model.js';
import { simulate } from './simulate.js';

function expectNear(actual: number, expected: number, relative: number, what: string): void {
  const error = Math.abs(actual / expected - 1);
  expect(error, `${what}: ${actual} vs ${expected} (±${relative * 100}%)`).toBeLessThanOrEqual(relative);
}

const only = (result: SimRunResult, s = 0): RevisionStats => {
  const stats = result.services[s]?.revisions[0];
  if (stats === undefined) throw new Error(`no revision stats for service ${s}`);
  return stats;
};

/** Erlang C: probability that an arrival waits in M/M/c with offered load a = λ/μ. */
function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) {
    term *= a / k;
    sum += term;
  }
  const last = (term * a) / c / (1 - a / c);
  return last / (sum + last);
}

describe('M/M/1 (one replica, one slot, exponential service)', () => {
  for (const { rho, customers, tolerance } of [
    { rho: 0.5, customers: 1_000_000, tolerance: 0.02 },
    { rho: 0.8, customers: 2_000_000, tolerance: 0.035 },
  ]) {
    it(`ρ = ${rho}: sojourn is exponential with rate μ − λ (mean, p50, p95, p99 within ${tolerance * 100}%)`, () => {
      const mu = 1; // per ms: mean service 1 ms
      const lambda = rho * mu;
      const result = simulate(
        mmcModel({
          ratePerSec: lambda * 1000,
          meanServiceMs: 1 / mu,
          durationMs: customers / lambda,
          warmupMs: 2000,
        }),
        2024,
      );
      const sojourn = 1 / (mu - lambda);
      const latency = result.entry.latencyMs;
      expectNear(latency.mean, sojourn, tolerance, 'mean sojourn');
      expectNear(latency.p50, sojourn * Math.log(2), tolerance, 'p50');
      expectNear(latency.p95, sojourn * Math.log(20), tolerance, 'p95');
      expectNear(latency.p99, sojourn * Math.log(100), tolerance, 'p99');
      const station = only(result);
      expectNear(station.latencyMs.mean, sojourn, tolerance, 'station mean');
      expectNear(station.slotUtilisation, rho, 0.01, 'utilisation');
      // Lq = ρ²/(1 − ρ), Wq = ρ/(μ − λ): time-averaged queue length and mean wait.
      expectNear(station.meanQueueLength, (rho * rho) / (1 - rho), tolerance * 1.5, 'Lq');
      expectNear(station.meanWaitMs ?? 0, rho / (mu - lambda), tolerance * 1.5, 'Wq');
      expectNear(station.waitedFraction ?? 0, rho, 0.01, 'P(wait > 0)');
      expectNear(result.entry.requests, customers, 0.005, 'arrivals');
      // Two events per customer: its arrival and its completion.
      expectNear(result.events, 2 * (customers + 2000 * lambda), 0.005, 'events');
    });
  }
});

describe('M/M/c (one replica with c slots sharing a FIFO queue)', () => {
  it('c = 4, ρ = 0.75: Erlang C wait probability (±2%) and mean wait (±4%)', () => {
    const c = 4;
    const mu = 1;
    const lambda = 3; // a = 3, ρ = 0.75
    const customers = 1_500_000;
    const result = simulate(
      mmcModel({
        ratePerSec: lambda * 1000,
        meanServiceMs: 1,
        servers: c,
        durationMs: customers / lambda,
        warmupMs: 500,
      }),
      77,
    );
    const pWait = erlangC(c, lambda / mu);
    const wq = pWait / (c * mu - lambda);
    const station = only(result);
    expectNear(station.waitedFraction ?? 0, pWait, 0.02, 'P(wait > 0)');
    expectNear(station.meanWaitMs ?? 0, wq, 0.04, 'Wq');
    expectNear(station.meanQueueLength, lambda * wq, 0.04, 'Lq (Little)');
    expectNear(result.entry.latencyMs.mean, wq + 1 / mu, 0.015, 'mean sojourn');
    expectNear(station.slotUtilisation, lambda / (c * mu), 0.01, 'utilisation');
  });
});

describe('Jackson tandem', () => {
  /*
   * A station holds its slot while it calls, so "A calls B" is not a tandem (see the
   * Pollaczek–Khinchine test below). A true tandem is a front service that does no work of its
   * own (0 ms, slots enough never to queue) and calls the stations one after another: a request
   * queues at A, is served, then queues at B. By Burke's theorem A's departures are Poisson, so
   * each station is an M/M/1 and the mean sojourn is the sum of 1/(μᵢ − λ).
   */
  it('three stations: mean end-to-end sojourn is the sum of the M/M/1 sojourns (±2.5%)', () => {
    const lambda = 0.5;
    const means = [1, 0.8, 0.5]; // ρ = 0.5, 0.4, 0.25
    const stations = means.map((m, i) => service(`s${i}`, [revision({ kind: 'exponential', meanMs: m })]));
    const front = service('front', [revision({ kind: 'deterministic', ms: 0 }, { concurrency: 1_000_000 })], {
      calls: stations.map((_, i) => ({ service: i + 1, perRequest: 1, mode: 'sequential' as const })),
    });
    const result = simulate(
      network([front, ...stations], {
        ratePerSec: lambda * 1000,
        durationMs: 1_000_000 / lambda,
        warmupMs: 1000,
      }),
      5,
    );
    const sojourns = means.map((m) => 1 / (1 / m - lambda));
    for (const [i, expected] of sojourns.entries())
      expectNear(only(result, i + 1).latencyMs.mean, expected, 0.025, `station ${i}`);
    expectNear(
      result.entry.latencyMs.mean,
      sojourns.reduce((a, b) => a + b, 0),
      0.025,
      'end to end',
    );
  });

  it('a caller holds its slot while calling: A(1 slot) → B is an M/G/1 with S = S_A + S_B (Pollaczek–Khinchine, ±3%)', () => {
    const lambda = 0.4;
    const [meanA, meanB] = [1, 0.5];
    const a = service('a', [revision({ kind: 'exponential', meanMs: meanA })], {
      calls: [{ service: 1, perRequest: 1, mode: 'sequential' }],
    });
    const b = service('b', [revision({ kind: 'exponential', meanMs: meanB })]);
    const result = simulate(
      network([a, b], { ratePerSec: lambda * 1000, durationMs: 2_000_000, warmupMs: 1000 }),
      9,
    );
    const es = meanA + meanB;
    const es2 = meanA ** 2 + meanB ** 2 + es ** 2; // Var(S_A + S_B) + E[S]²
    const rho = lambda * es;
    const wait = (lambda * es2) / (2 * (1 - rho));
    expectNear(result.entry.latencyMs.mean, wait + es, 0.03, 'sojourn');
    expectNear(only(result).slotUtilisation, rho, 0.01, 'A busy slots');
    expect(only(result, 1).maxQueueLength).toBe(0); // A lets one request at a time reach B
  });
});
