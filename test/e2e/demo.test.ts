import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { augur, repoRoot } from './helpers.js';

interface DemoSummary {
  releases: {
    release: string;
    outcome: string;
    tierReached: number;
    timeToDecisionMs: number | null;
    canaryRequests: number;
    reason: string | null;
    prediction: { riskScore: number; breachTier: number | null; summary: string } | null;
    services: {
      service: string;
      outcome: string;
      tierReached: number;
      timeToDecisionMs: number | null;
      canaryRequests: number;
      canaryErrors: number;
      decidedOn: { requests: number; errors: number };
      reason: string | null;
      culprit: boolean;
    }[];
    mitigation: {
      status: string;
      rounds: number;
      backups: number;
      checkFailures: string[];
      discardedRows: number | null;
      discarded: { name: string; rows: number | null; tables: Record<string, number>; kept: string[] }[];
    } | null;
  }[];
  model: { id: string; rows: number } | null;
  asExpected: boolean;
  durationMs: number;
}

interface ModelStatusJson {
  current: {
    id: string;
    metrics: Record<string, { validation: { n: number; coverage: number } | null } | undefined>;
  } | null;
  coverage: { service: string; metric: string; n: number; coverage: number }[];
  outcomes: { release: string; phase: string | null }[];
  reliability: { bins: { count: number }[] } | null;
}

describe('augur demo --once --json', () => {
  it('predicts each release, promotes cart-v2, stops cart-v3 before its predicted breach, rolls cart-bad back, rolls back only payments of payments-catalog-v2 and restores its data', async () => {
    const started = Date.now();
    const run = await augur(['demo', '--once', '--json'], 360_000);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as DemoSummary;
    // What each release took, in the test's log: a run near the three minutes says where they went.
    const seconds = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
    console.log(
      `the demo took ${seconds(summary.durationMs)}; decided in: ${summary.releases
        .flatMap((r) =>
          r.services.map((x) => `${r.release}/${x.service} ${x.outcome} ${seconds(x.timeToDecisionMs)}`),
        )
        .join(', ')}`,
    );
    const pauses = run.stderr.split('\n').filter((line) => /YELLOW|resuming/.test(line));
    if (pauses.length > 0) console.log(pauses.join('\n'));
    expect(summary.asExpected).toBe(true);
    const [good, slow, bad, pair] = summary.releases;
    expect(good).toMatchObject({ release: 'cart-v2', outcome: 'promoted', tierReached: 100 });
    expect(good?.prediction?.breachTier).toBeNull();
    // cart-v3: predicted to saturate cart's CPU at 100%, stopped at its first tier by the forecast
    // from the canary's own figures, the reason naming the failure point and the tier. The forecast
    // weighs the peak scenario too, which takes cart v3 near its CPU limit at the 50% tier already,
    // so it may place the breach there; on a machine busy enough to stretch the shop's latency tail,
    // it may first see cart's p99 over its limit through the model of what production showed.
    const story = run.stderr
      .split('\n')
      .filter((line) => /cart-v3|cart v3|model/.test(line))
      .join('\n');
    expect(slow, story).toMatchObject({ release: 'cart-v3', outcome: 'rolled-back', tierReached: 5 });
    expect(slow?.prediction?.breachTier, story).toBe(100);
    expect(slow?.prediction?.riskScore, story).toBeGreaterThan(0.5);
    expect(slow?.reason, story).toMatch(
      /cart v3 ((used|costs) .* ms of CPU per request.*at the 5% tier.*predicted breach at the (50|100)% tier|holds each request .* ms \(p50\) at the 5% tier: .* through the model .*predicted breach at the (25|50|100)% tier)/,
    );
    expect(bad).toMatchObject({ release: 'cart-bad', outcome: 'rolled-back', tierReached: 5 });
    expect(bad?.timeToDecisionMs).toBeGreaterThan(0);
    expect(bad?.canaryRequests).toBeGreaterThan(0);
    // Two services, one culprit: payments alone rolled back, its corrupted orders restored and
    // verified; catalog promoted.
    expect(pair).toMatchObject({ release: 'payments-catalog-v2', outcome: 'mixed' });
    expect(pair?.services.map((x) => [x.service, x.outcome, x.culprit])).toEqual([
      ['payments', 'rolled-back', true],
      ['catalog', 'promoted', false],
    ]);
    expect(pair?.services[1]?.tierReached).toBe(100);
    expect(pair?.mitigation).toMatchObject({ status: 'restored', rounds: 1, backups: 1 });
    // Each change says when it was decided, and its canary's failures: all of them, and those the
    // decisions had seen (what the RED message counts) — never more than all of them.
    for (const x of pair?.services ?? []) {
      expect(x.timeToDecisionMs, x.service).toBeGreaterThan(0);
      expect(x.decidedOn.errors, x.service).toBeLessThanOrEqual(x.canaryErrors);
    }
    expect(pair?.services[1]?.timeToDecisionMs).toBeGreaterThan(pair?.services[0]?.timeToDecisionMs ?? 0);
    expect(bad?.services[0]?.decidedOn.errors).toBeGreaterThan(0);
    // The orders live in the demo's state directory, not in the repository; the check found the
    // corrupt ones there, and the restore says how many orders written since the backup it
    // discarded with them, keeping a copy.
    const state = join(repoRoot, '.augur', 'demo');
    const orders = join(state, 'data', 'payments', 'orders.db');
    expect(existsSync(orders)).toBe(true);
    expect(pair?.mitigation?.checkFailures[0]).toMatch(/\d+ of \d+ orders are corrupt in (.*)$/);
    expect(pair?.mitigation?.checkFailures[0]).toContain(orders);
    const discarded = pair?.mitigation?.discarded[0];
    expect(discarded?.rows).toBeGreaterThan(0);
    expect(pair?.mitigation?.discardedRows).toBe(discarded?.rows);
    expect(discarded?.tables).toEqual({ orders: discarded?.rows });
    expect(run.stderr).toMatch(
      new RegExp(
        `restored \\(restore-orders-db: .*; ${discarded?.rows} rows written or changed since the backup \\(.*\\) discarded \\(orders ${discarded?.rows}\\)`,
      ),
    );
    const backups = join(state, 'backups', 'payments-catalog-v2');
    expect(discarded?.kept[0]?.startsWith(`${backups}/`)).toBe(true);
    const files = readdirSync(backups);
    expect(files.filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
    for (const f of files) expect(statSync(join(backups, f)).mode & 0o777, f).toBe(0o600);
    expect(run.stderr).toMatch(
      /RED payments v2: .*payments is the culprit: its own behaviour broke \(cart, frontend only saw it through their calls\)/,
    );
    expect(run.stderr).toMatch(/data restored and verified/);
    expect(Date.now() - started).toBeLessThan(350_000);
    expect(summary.durationMs).toBeGreaterThan(0);
    expect(summary.durationMs).toBeLessThanOrEqual(Date.now() - started);
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
    // Measured and reported: the held-out windows are the run's last fifth (about 40 s), which a
    // burst of other work on the machine can push past what three minutes taught the model, so
    // its quality is asked of the adaptive ranges below rather than of this figure.
    expect(p99?.n).toBeGreaterThanOrEqual(50);
    expect(p99?.coverage).toBeGreaterThanOrEqual(0);
    expect(p99?.coverage).toBeLessThanOrEqual(1);
    expect(model.coverage.some((c) => c.metric === 'latencyP99Ms' && c.n > 50)).toBe(true);
    // The ranges given before each window held most windows of every service × metric (90% is
    // the aim; a few minutes of a demo give each slice 30–300 windows, and its first ones meet
    // the cold start). Windows without errors are inside their error-rate ranges.
    for (const slice of model.coverage) {
      if (slice.n >= 30) expect(slice.coverage, `${slice.service} ${slice.metric}`).toBeGreaterThan(0.6);
    }
    expect(model.outcomes.map((o) => [o.release, o.phase])).toEqual([
      ['cart-v2', 'promoted'],
      ['cart-v3', 'rolled-back'],
      ['cart-bad', 'rolled-back'],
      ['payments-catalog-v2', 'mixed'],
    ]);
    expect(model.reliability?.bins.reduce((n, b) => n + b.count, 0)).toBe(4);
    const text = await augur(['model', 'status'], 30_000);
    expect(text.stdout).toMatch(/^model s-[0-9a-f]{8}: trained/);
    expect(text.stdout).toMatch(/capture vs gating/);
  }, 380_000);
});
