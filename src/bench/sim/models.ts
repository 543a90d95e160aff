import { mmcModel, network, revision, service } from '../../sim/builders.js';
import type { SimModel } from '../../sim/model.js';

/** M/M/1 at ρ = 0.8 (λ = 800/s, mean service 1 ms) sized to `customers` expected arrivals. */
export const MM1 = { ratePerSec: 800, meanServiceMs: 1 } as const;
export function mm1(customers: number): SimModel {
  return mmcModel({ ...MM1, durationMs: (customers / MM1.ratePerSec) * 1000 });
}

/** Entry rate of the shop benchmark. */
export const SHOP_RATE_PER_SEC = 500;

/**
 * The demo shop (examples/shop/augur.yaml, v1 everywhere): frontend calls catalog twice in
 * parallel, then cart, which calls payments; replicas, slots, cores, timeouts and retries as
 * configured there. Service times are lognormal, a few milliseconds, in the spirit of each
 * service's WORK_MS; no errors. Sized to `requests` expected entry requests, no warm-up.
 */
export function shop(requests: number): SimModel {
  const pool = (
    medianMs: number,
    sigma: number,
    concurrency: number,
    cpuCores: number,
    cpuMsPerRequest: number,
  ) =>
    revision({ kind: 'lognormal', medianMs, sigma }, { replicas: 2, concurrency, cpuCores, cpuMsPerRequest });
  return network(
    [
      service('frontend', [pool(1, 0.5, 32, 0.25, 1)], {
        timeoutMs: 1000,
        retries: 0,
        calls: [
          { service: 1, perRequest: 2, mode: 'parallel' },
          { service: 2, perRequest: 1, mode: 'sequential' },
        ],
      }),
      service('catalog', [pool(2, 0.6, 16, 0.25, 1)], { timeoutMs: 300, retries: 1 }),
      service('cart', [pool(2.5, 0.5, 16, 0.15, 2.7)], {
        timeoutMs: 800,
        retries: 0,
        calls: [{ service: 3, perRequest: 1, mode: 'sequential' }],
      }),
      service('payments', [pool(3, 0.7, 16, 0.25, 1.5)], { timeoutMs: 500, retries: 0 }),
    ],
    { ratePerSec: SHOP_RATE_PER_SEC, durationMs: (requests / SHOP_RATE_PER_SEC) * 1000 },
  );
}
