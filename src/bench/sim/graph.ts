import { meanOf } from '../../sim/distributions.js';
import type { SimCall, SimModel, SimRevision, SimService } from '../../sim/model.js';
import { SimRandom } from '../../sim/random.js';

export interface GraphOptions {
  readonly services: number;
  readonly ratePerSec: number;
  readonly durationMs: number;
  readonly warmupMs: number;
}

/**
 * A random service graph for the graph50 benchmark, generated from `seed`: services in layers
 * (the entrypoint alone in the first), each calling 1–3 services of the next layer (every service
 * has at least one caller), half of the call entries parallel, 0.3–1.2 calls per request.
 * Lognormal service times of 0.5–5 ms; one service in four runs a 10% canary revision (slower,
 * failing 0.5%); timeouts at a few times the expected latency, 0–2 retries. Slots are sized from
 * the expected load so that every pool is moderately busy (about 40% of its slots).
 */
export function randomGraph(seed: number, options: GraphOptions): SimModel {
  const random = new SimRandom(seed);
  const uniform = (low: number, high: number): number => low + (high - low) * random.next();
  const whole = (low: number, high: number): number => Math.floor(uniform(low, high + 1));

  // Layer sizes growing towards the leaves: 1, 3, 6, 10, 14, 16 for 50 services.
  const layers: number[][] = [];
  let next = 0;
  for (const share of [0.02, 0.06, 0.12, 0.2, 0.28]) {
    const size = Math.max(1, Math.round(share * options.services));
    layers.push(Array.from({ length: size }, () => next++));
  }
  layers.push(Array.from({ length: options.services - next }, () => next++));

  const calls: SimCall[][] = Array.from({ length: options.services }, () => []);
  for (let l = 0; l + 1 < layers.length; l++) {
    const callers = layers[l] ?? [];
    const callees = layers[l + 1] ?? [];
    const targets = callers.map(() => new Set<number>());
    callees.forEach((callee, i) => targets[i % callers.length]?.add(callee));
    for (const set of targets) {
      const fanOut = Math.max(set.size, whole(1, 3));
      while (set.size < Math.min(fanOut, callees.length)) set.add(callees[whole(0, callees.length - 1)] ?? 0);
    }
    callers.forEach((caller, i) => {
      for (const callee of targets[i] ?? [])
        calls[caller]?.push({
          service: callee,
          perRequest: Math.round(uniform(0.3, 1.2) * 100) / 100,
          mode: random.next() < 0.5 ? 'parallel' : 'sequential',
        });
    });
  }

  // Expected visits per entry request (top-down) and slot holding times (bottom-up).
  const visits = new Float64Array(options.services);
  visits[0] = 1;
  for (const layer of layers)
    for (const s of layer)
      for (const c of calls[s] ?? [])
        visits[c.service] = (visits[c.service] ?? 0) + (visits[s] ?? 0) * c.perRequest;
  const times = Array.from({ length: options.services }, () => ({
    medianMs: Math.round(uniform(0.5, 5) * 100) / 100,
    sigma: Math.round(uniform(0.3, 0.8) * 100) / 100,
  }));
  const holding = new Float64Array(options.services);
  for (const layer of [...layers].reverse())
    for (const s of layer) {
      const t = times[s] ?? { medianMs: 1, sigma: 0.5 };
      let h = meanOf({ kind: 'lognormal', ...t });
      for (const c of calls[s] ?? [])
        h += (c.mode === 'parallel' ? 1.3 : c.perRequest) * (holding[c.service] ?? 0);
      holding[s] = h;
    }

  const services: SimService[] = [];
  for (let s = 0; s < options.services; s++) {
    const t = times[s] ?? { medianMs: 1, sigma: 0.5 };
    const replicas = whole(1, 3);
    const busySlots = (options.ratePerSec / 1000) * (visits[s] ?? 0) * (holding[s] ?? 0);
    const concurrency = Math.max(2, Math.ceil(busySlots / 0.4 / replicas));
    const pool = (name: string, share: number, slower: number, errorProbability: number): SimRevision => ({
      name,
      share,
      replicas,
      concurrency,
      cpuCores: 0.5,
      cpuMsPerRequest: t.medianMs * 0.8,
      errorProbability,
      serviceTime: { kind: 'lognormal', medianMs: t.medianMs * slower, sigma: t.sigma },
    });
    const canary = s > 0 && random.next() < 0.25;
    services.push({
      name: `svc${String(s).padStart(2, '0')}`,
      revisions: canary
        ? [pool('stable', 0.9, 1, 0), pool('canary', 0.1, 1.5, 0.005)]
        : [pool('stable', 1, 1, 0)],
      timeoutMs: s === 0 ? Number.POSITIVE_INFINITY : Math.round(4 * (holding[s] ?? 1) + 20),
      retries: s === 0 ? 0 : whole(0, 2),
      calls: calls[s] ?? [],
    });
  }
  return {
    services,
    entrypoint: 0,
    arrivals: { ratePerSec: options.ratePerSec, segments: [] },
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
  };
}

/** Expected service visits per entry request (for the report). */
export function visitsPerRequest(model: SimModel): number {
  const visits = new Float64Array(model.services.length);
  visits[model.entrypoint] = 1;
  // Services are generated in layer order, so one pass in index order propagates every visit.
  model.services.forEach((service, s) => {
    for (const c of service.calls)
      visits[c.service] = (visits[c.service] ?? 0) + (visits[s] ?? 0) * c.perRequest;
  });
  return visits.reduce((a, b) => a + b, 0);
}
