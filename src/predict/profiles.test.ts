import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../config/index.js';
import type { ApplicationConfig } from '../config/types.js';
import type { MetricMinute } from '../store/store.js';
import { profilesFromHistory } from './profiles.js';

async function shop(): Promise<ApplicationConfig> {
  const loaded = await loadConfiguration(['examples/shop/augur.yaml']);
  if (!loaded.ok) throw new Error('shop config invalid');
  return loaded.value.application;
}

function minute(index: number, requests: number, cpuCores: number): MetricMinute {
  return {
    service: 'catalog',
    revision: 'v1',
    minute: 1_800_000_000_000 + index * 60_000,
    requests,
    errors: 0,
    timeouts: 0,
    latencyP50Ms: 2,
    latencyP95Ms: 4,
    latencyP99Ms: 6,
    latencyMeanMs: 2.5,
    cpuCores,
    rssBytes: null,
    sketch: null,
  };
}

describe('profilesFromHistory', () => {
  it('charges CPU per request from whole minutes, after the idle allowance', async () => {
    const app = await shop();
    const replicas = app.services.catalog?.resources.replicas ?? 1;
    const idle = 0.003 * replicas;
    // 30 req/s at 4 ms of CPU each: 0.12 cores of work.
    const rows = [0, 1, 2].map((i) => minute(i, 1800, 0.12 + idle));
    const [catalog] = profilesFromHistory(app, rows);
    expect(catalog?.source).toBe('production');
    expect(catalog?.cpuMsPerRequest).toBeCloseTo(4, 6);
  });

  it('leaves out a minute recorded only in part (its CPU is a whole minute’s, its requests a part’s)', async () => {
    const app = await shop();
    const replicas = app.services.catalog?.resources.replicas ?? 1;
    const idle = 0.003 * replicas;
    // Two runs, each stopped 8 s into its last minute: 240 requests there, but the same 0.12 cores.
    const rows = [
      minute(0, 1800, 0.12 + idle),
      minute(1, 240, 0.12 + idle),
      minute(5, 1800, 0.12 + idle),
      minute(6, 240, 0.12 + idle),
    ];
    const [catalog] = profilesFromHistory(app, rows);
    expect(catalog?.cpuMsPerRequest).toBeCloseTo(4, 6);
    expect(catalog?.requests).toBe(4080);
    // With only one whole minute beside it, the partial one is still left out.
    const [two] = profilesFromHistory(app, [minute(0, 1688, 0.12 + idle), minute(1, 220, 0.12 + idle)]);
    expect(two?.cpuMsPerRequest).toBeCloseTo((0.12 * 60_000) / 1688, 6);
  });
});
