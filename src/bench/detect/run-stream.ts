import { AugurJudge } from './augur-judge.js';
import type { Judge } from './judge.js';
import { canaryCount } from './judge.js';
import { KayentaJudge } from './kayenta-judge.js';
import type { Effect, Plan } from './scenario.js';
import { RATE, streamSpec } from './scenario.js';
import { RequestStream } from './stream.js';
import { ArgoJudge, FlaggerJudge } from './threshold-judges.js';

/** Judges in the order their outcomes are reported. */
export const JUDGES = ['augur', 'flagger-t1', 'flagger-t5', 'argo', 'kayenta'] as const;
export type JudgeName = (typeof JUDGES)[number];

/** One judge on one stream. */
export interface Outcome {
  readonly rolledBack: boolean;
  readonly promoted: boolean;
  /** Canary requests served when the judge decided (or by the end, if it never did). */
  readonly samples: number;
  /** Requests the canary served up to the horizon (all of them after a promotion). */
  readonly badRequests: number;
  /** Seconds from the rollout's start to the judge's decision (null: undecided at the horizon). */
  readonly decidedAtS: number | null;
}

/** A stream's seed: distinct per (case, stream), the same for every judge. */
export function streamSeed(caseIndex: number, stream: number): number {
  return (Math.imul(caseIndex + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
}

/**
 * Plays one stream to its horizon (or until every judge has decided) with every judge watching the
 * same requests through its own split. Bounded by the horizon in simulated seconds.
 */
export function runStream(effect: Effect, plan: Plan, seed: number, index: number): Outcome[] {
  const spec = streamSpec(effect, index);
  const stream = new RequestStream(seed, spec);
  const augur = new AugurJudge(plan, spec);
  augur.preroll(stream.next());
  const judges: Judge[] = [
    augur,
    new FlaggerJudge(plan, spec, 1),
    new FlaggerJudge(plan, spec, 5),
    new ArgoJudge(plan, spec),
    new KayentaJudge(plan),
  ];
  const served = judges.map(() => 0);
  const decidedAt = judges.map((): number | null => null);
  let t = 0;
  while (t < plan.horizonS && judges.some((j) => j.verdict === 'running')) {
    const second = stream.next();
    for (const [k, judge] of judges.entries()) {
      if (judge.verdict !== 'running') continue;
      const share = judge.share();
      judge.consume(second, share);
      served[k] = (served[k] ?? 0) + canaryCount(second, share);
    }
    t++;
    for (const [k, judge] of judges.entries()) {
      if (judge.verdict !== 'running') continue;
      judge.endSecond(t);
      if (judge.verdict !== 'running') decidedAt[k] = t;
    }
  }
  return judges.map((judge, k): Outcome => {
    const samples = served[k] ?? 0;
    const at = decidedAt[k] ?? plan.horizonS;
    const promoted = judge.verdict === 'promoted';
    return {
      rolledBack: judge.verdict === 'rolled-back',
      promoted,
      samples,
      // A promoted canary is the service from then on: every request to the horizon is its.
      badRequests: samples + (promoted ? Math.max(0, plan.horizonS - at) * RATE : 0),
      decidedAtS: decidedAt[k] ?? null,
    };
  });
}
