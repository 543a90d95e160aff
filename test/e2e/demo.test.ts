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
  model: { id: string; rows: number } | null;
  asExpected: boolean;
}

interface ModelStatusJson {
  current: {
    id: string;
    metrics: Record<string, { validation: { n: number; coverage: number } | null } | undefined>;
  } | null;
  coverage: { metric: string; n: number }[];
  outcomes: { release: string; phase: string | null }[];
  reliability: { bins: { count: number }[] } | null;
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
    // The model learned from the run's traffic; `augur model status` (no file: the demo's store)
    // reports it with its measured coverage and the three predictions against their outcomes.
    expect(summary.model?.rows).toBeGreaterThanOrEqual(300);
    const status = await augur(['model', 'status', '--json'], 30_000);
    expect(status.code, status.stderr).toBe(0);
    const model = JSON.parse(status.stdout) as ModelStatusJson;
    expect(model.current?.id).toBe(summary.model?.id);
    const p99 = model.current?.metrics['latencyP99Ms']?.validation;
    expect(p99?.n).toBeGreaterThanOrEqual(50);
    expect(p99?.coverage).toBeGreaterThan(0.5);
    expect(model.coverage.some((c) => c.metric === 'latencyP99Ms' && c.n > 50)).toBe(true);
    expect(model.outcomes.map((o) => [o.release, o.phase])).toEqual([
      ['cart-v2', 'promoted'],
      ['cart-v3', 'rolled-back'],
      ['cart-bad', 'rolled-back'],
    ]);
    expect(model.reliability?.bins.reduce((n, b) => n + b.count, 0)).toBe(3);
    const text = await augur(['model', 'status'], 30_000);
    expect(text.stdout).toMatch(/^model s-[0-9a-f]{8}: trained/);
    expect(text.stdout).toMatch(/capture vs gating/);
  }, 250_000);
});
