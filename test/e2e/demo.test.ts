import { describe, expect, it } from 'vitest';
import { augur } from './helpers.js';

interface DemoSummary {
  releases: {
    release: string;
    outcome: string;
    tierReached: number;
    timeToDecisionMs: number | null;
    canaryRequests: number;
  }[];
  asExpected: boolean;
}

describe('augur demo --once --json', () => {
  it('promotes cart-v2 and rolls cart-bad back at its first tier, within 3 minutes', async () => {
    const started = Date.now();
    const run = await augur(['demo', '--once', '--json'], 240_000);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as DemoSummary;
    expect(summary.asExpected).toBe(true);
    const [good, bad] = summary.releases;
    expect(good).toMatchObject({ release: 'cart-v2', outcome: 'promoted', tierReached: 100 });
    expect(bad).toMatchObject({ release: 'cart-bad', outcome: 'rolled-back', tierReached: 5 });
    expect(bad?.timeToDecisionMs).toBeGreaterThan(0);
    expect(bad?.canaryRequests).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(180_000);
    expect(run.stderr).toMatch(/RED cart v4/);
  }, 250_000);
});
