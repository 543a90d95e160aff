import { network, revision, service } from './builders.js';
import type { SimModel } from './model.js';

/** A small network using every feature: shares, replicas, timeouts, retries, errors, both modes. */
export const mixedModel: SimModel = network(
  [
    service(
      'front',
      [revision({ kind: 'lognormal', medianMs: 1, sigma: 0.5 }, { replicas: 2, concurrency: 8 })],
      {
        timeoutMs: 200,
        calls: [
          { service: 1, perRequest: 2, mode: 'parallel' },
          { service: 2, perRequest: 0.5, mode: 'sequential' },
        ],
      },
    ),
    service(
      'catalog',
      [
        revision({ kind: 'exponential', meanMs: 2 }, { name: 'v1', share: 0.9, replicas: 2, concurrency: 4 }),
        revision(
          { kind: 'empirical', samplesMs: [1, 2, 40] },
          { name: 'v2', share: 0.1, errorProbability: 0.05 },
        ),
      ],
      { timeoutMs: 30, retries: 1 },
    ),
    service(
      'cart',
      [revision({ kind: 'deterministic', ms: 3 }, { concurrency: 4, errorProbability: 0.01 })],
      {
        timeoutMs: 50,
      },
    ),
  ],
  { ratePerSec: 400, durationMs: 20_000, warmupMs: 2000 },
);
