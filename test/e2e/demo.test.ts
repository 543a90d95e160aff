import { describe, expect, it } from 'vitest';
import { augur } from './helpers.js';

interface DemoSummary {
  releases: {
    release: string;
    outcome: string;
    tierReached: number;
    timeToDecisionMs: number | null;
    canaryRequests: number;
    reason: string | null;
    prediction: { riskScore: number; breachTier: number | null; summary: string } | null;
  }[];
  asExpected: boolean;
}

describe('augur demo --once --json', () => {
  it('predicts each release, promotes cart-v2, stops cart-v3 before its predicted breach, rolls cart-bad back', async () => {
    const started = Date.now();
    const run = await augur(['demo', '--once', '--json'], 240_000);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as DemoSummary;
    expect(summary.asExpected).toBe(true);
    const [good, slow, bad] = summary.releases;
    expect(good).toMatchObject({ release: 'cart-v2', outcome: 'promoted', tierReached: 100 });
    expect(good?.prediction?.breachTier).toBeNull();
    // cart-v3: predicted to saturate cart's CPU at 100%, stopped at its first tier by the forecast
    // from the canary's own figures, the reason naming the failure point and the tier.
    expect(slow).toMatchObject({ release: 'cart-v3', outcome: 'rolled-back', tierReached: 5 });
    expect(slow?.prediction?.breachTier).toBe(100);
    expect(slow?.prediction?.riskScore).toBeGreaterThan(0.5);
    expect(slow?.reason).toMatch(/cart v3 (used|costs) .* ms of CPU per request.*at the 5% tier/);
    expect(slow?.reason).toMatch(/predicted breach at the 100% tier/);
    expect(bad).toMatchObject({ release: 'cart-bad', outcome: 'rolled-back', tierReached: 5 });
    expect(bad?.timeToDecisionMs).toBeGreaterThan(0);
    expect(bad?.canaryRequests).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(230_000);
    expect(run.stderr).toMatch(/predict cart-v3: HIGH RISK/);
    expect(run.stderr).toMatch(/RED cart v4/);
  }, 250_000);
});
