import type { Judge, Verdict } from './judge.js';
import { peerSteps } from './judge.js';
import type { Plan, StreamSpec } from './scenario.js';
import { ERROR_RATE_LIMIT, PEER_INTERVAL_S } from './scenario.js';
import { interpolated, Samples } from './stream.js';
import type { Second } from './stream.js';

/**
 * The canary's requests of the last interval: what a PromQL query over a 1-minute window returns
 * when the interval is a minute (request-success-rate and request-duration p99).
 */
class CanaryMinute {
  readonly latencies = new Samples();
  errors = 0;

  consume(second: Second, share: number): void {
    for (let i = 0; i < second.n; i++) {
      if ((second.u[i] ?? 1) < share) {
        this.latencies.push(second.canaryLatency[i] ?? 0);
        this.errors += second.canaryError[i] ?? 0;
      }
    }
  }

  /**
   * Both thresholds hold: error rate ≤ 1% and p99 ≤ the latency limit. No requests is a failed
   * check (Flagger counts "no values" as a failure; Argo's condition on NaN is false).
   */
  passes(limitMs: number): boolean {
    const n = this.latencies.length;
    if (n === 0) return false;
    const p99 = interpolated(this.latencies.copy(), 0.99) ?? Number.POSITIVE_INFINITY;
    return this.errors / n <= ERROR_RATE_LIMIT && p99 <= limitMs;
  }

  reset(): void {
    this.latencies.clear();
    this.errors = 0;
  }
}

/**
 * Flagger's canary analysis (pkg/controller/scheduler.go): every `interval`, first roll back if
 * failedChecks ≥ threshold, then run the metric checks; a failure adds one to failedChecks (never
 * reset during the analysis) and holds the weight, a success advances one step, and a success at
 * maxWeight promotes. So a canary that fails every check lives threshold + 1 intervals.
 */
export class FlaggerJudge implements Judge {
  readonly name: string;
  private readonly steps: number[];
  private readonly held: boolean;
  private readonly threshold: number;
  private readonly limitMs: number;
  private readonly minute = new CanaryMinute();
  private step = 0;
  private failedChecks = 0;
  verdict: Verdict = 'running';

  constructor(plan: Plan, spec: StreamSpec, threshold: number) {
    this.name = `flagger-t${threshold}`;
    this.steps = peerSteps(plan.tiers);
    this.held = plan.kind === 'held';
    this.threshold = threshold;
    this.limitMs = spec.latencyLimitMs;
  }

  share(): number {
    if (this.verdict === 'rolled-back') return 0;
    if (this.verdict === 'promoted') return 1;
    return this.steps[this.step] ?? 0;
  }

  consume(second: Second, share: number): void {
    this.minute.consume(second, share);
  }

  endSecond(t: number): void {
    if (this.verdict !== 'running' || t % PEER_INTERVAL_S !== 0) return;
    const passed = this.minute.passes(this.limitMs);
    this.minute.reset();
    if (this.failedChecks >= this.threshold) {
      this.verdict = 'rolled-back';
      return;
    }
    if (!passed) {
      this.failedChecks++;
      return;
    }
    if (this.held) return;
    if (this.step + 1 < this.steps.length) this.step++;
    else this.verdict = 'promoted';
  }
}

/**
 * Argo Rollouts: steps of setWeight + pause (one bake each) with a background AnalysisRun taking
 * one measurement per interval (first after one interval, i.e. initialDelay = interval) of each
 * metric's successCondition; failureLimit 0, so the first failed measurement aborts the rollout and
 * sets the canary weight to 0 at once. Steps advance on time; after the last, the rollout completes.
 */
export class ArgoJudge implements Judge {
  readonly name = 'argo';
  private readonly steps: number[];
  private readonly held: boolean;
  private readonly limitMs: number;
  private readonly minute = new CanaryMinute();
  private step = 0;
  verdict: Verdict = 'running';

  constructor(plan: Plan, spec: StreamSpec) {
    this.steps = peerSteps(plan.tiers);
    this.held = plan.kind === 'held';
    this.limitMs = spec.latencyLimitMs;
  }

  share(): number {
    if (this.verdict === 'rolled-back') return 0;
    if (this.verdict === 'promoted') return 1;
    return this.steps[this.step] ?? 0;
  }

  consume(second: Second, share: number): void {
    this.minute.consume(second, share);
  }

  endSecond(t: number): void {
    if (this.verdict !== 'running' || t % PEER_INTERVAL_S !== 0) return;
    const passed = this.minute.passes(this.limitMs);
    this.minute.reset();
    if (!passed) {
      this.verdict = 'rolled-back';
      return;
    }
    if (this.held) return;
    if (this.step + 1 < this.steps.length) this.step++;
    else this.verdict = 'promoted';
  }
}
