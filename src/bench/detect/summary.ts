import type { JudgeName, Outcome } from './run-stream.js';
import { JUDGES } from './run-stream.js';
import { augurTestLevel } from './augur-judge.js';
import { oracleSamples } from './oracle.js';
import type { BenchCase } from './scenario.js';

export interface JudgeFigures {
  /** Median canary requests until the rollback decision, counting a miss as never; null when
   * fewer than half the streams were rolled back (the median is then "not within the horizon"). */
  readonly medianSamples: number | null;
  /** Share of streams rolled back (for an A/A row: the false-rollback rate). */
  readonly detectionRate: number;
  /** Mean requests served by the canary up to the horizon (a promoted canary serves them all). */
  readonly badRequests: number;
  readonly promotedRate: number;
  /**
   * Median seconds from the rollout's start to promotion, counting a stream not promoted as never;
   * null when fewer than half were promoted.
   */
  readonly medianPromotedS: number | null;
}

export interface CaseFigures {
  readonly name: string;
  readonly plan: string;
  readonly effect: string;
  readonly streams: number;
  readonly oracleSamples: number | null;
  /**
   * The same oracle at the level one of Augur's tests runs at (the release's α split over its
   * rollback tests): what splitting α alone costs, before any price for not knowing the effect.
   */
  readonly oracleAtTestLevel: number | null;
  readonly augur: JudgeFigures & {
    readonly ratioToOracle: number | null;
    readonly ratioToTestLevelOracle: number | null;
  };
  readonly baselines: Readonly<Record<string, JudgeFigures>>;
}

/** Median with misses as +∞: null when the middle of the list is a miss. */
function medianOrNull(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const hi = sorted[mid] ?? Number.POSITIVE_INFINITY;
  const m = sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
  return Number.isFinite(m) ? m : null;
}

export function judgeFigures(outcomes: readonly Outcome[]): JudgeFigures {
  const n = outcomes.length;
  return {
    medianSamples: medianOrNull(outcomes.map((o) => (o.rolledBack ? o.samples : Number.POSITIVE_INFINITY))),
    detectionRate: outcomes.filter((o) => o.rolledBack).length / n,
    badRequests: outcomes.reduce((s, o) => s + o.badRequests, 0) / n,
    promotedRate: outcomes.filter((o) => o.promoted).length / n,
    medianPromotedS: medianOrNull(
      outcomes.map((o) =>
        o.promoted ? (o.decidedAtS ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY,
      ),
    ),
  };
}

/** outcomes[stream][judge] of one case into its figures. */
export function caseFigures(c: BenchCase, outcomes: readonly (readonly Outcome[])[]): CaseFigures {
  const of = (name: JudgeName): JudgeFigures => {
    const k = JUDGES.indexOf(name);
    return judgeFigures(outcomes.map((perJudge) => perJudge[k] as Outcome));
  };
  const oracle = oracleSamples(c);
  const atTestLevel = oracleSamples(c, augurTestLevel());
  const augur = of('augur');
  return {
    name: c.name,
    plan: c.plan.name,
    effect: c.effect.name,
    streams: outcomes.length,
    oracleSamples: oracle,
    oracleAtTestLevel: atTestLevel,
    augur: {
      ...augur,
      ratioToOracle: oracle !== null && augur.medianSamples !== null ? augur.medianSamples / oracle : null,
      ratioToTestLevelOracle:
        atTestLevel !== null && augur.medianSamples !== null ? augur.medianSamples / atTestLevel : null,
    },
    baselines: Object.fromEntries(JUDGES.filter((j) => j !== 'augur').map((j) => [j, of(j)])),
  };
}
