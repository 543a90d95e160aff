import { LEARNED_FROM } from '../model/cold-start.js';
import {
  type CapturePoint,
  type ReliabilityTable,
  captureCurve,
  reliabilityTable,
} from '../model/metrics.js';
import type { Store, StoredModelRow } from '../store/store.js';
import { MODEL_METRICS, type ModelMetric } from './features.js';
import type { ModelSetSummary } from './model-set.js';

/** Coverage of the ranges given before the windows were observed, per service × metric. */
export interface CoverageSlice {
  readonly service: string;
  readonly metric: ModelMetric;
  /** Windows scored, and the share inside their range. */
  readonly n: number;
  readonly coverage: number;
  /** Of those, scored by a learned model (the rest by the cold-start rule). */
  readonly learned: number;
  readonly learnedCoverage: number | null;
  /** The same over consecutive periods of the data's span, oldest first (coverage over time). */
  readonly overTime: readonly { readonly from: number; readonly n: number; readonly coverage: number }[];
}

export interface ReleaseOutcome {
  readonly release: string;
  readonly risk: number;
  readonly predictedAt: number;
  /** How the release ended, or null while it runs (or when it was never rolled out). */
  readonly phase: string | null;
  /** Rolled back (whole or in part) or aborted: counted as a bad release. */
  readonly bad: boolean | null;
}

export interface ModelStatus {
  readonly current: ModelSetSummary | null;
  readonly versions: readonly ModelSetSummary[];
  readonly data: {
    readonly rows: number;
    readonly span: { readonly from: number; readonly to: number } | null;
    readonly perService: Readonly<Record<string, number>>;
  };
  /** Rows a metric needs before a model is trained for it. */
  readonly learnedFrom: number;
  readonly coverage: readonly CoverageSlice[];
  readonly outcomes: readonly ReleaseOutcome[];
  /** Risk scores against outcomes, over releases that ended (null before any did). */
  readonly reliability: ReliabilityTable | null;
  /** Share of bad releases caught when gating the riskiest X% (null before any ended). */
  readonly capture: readonly CapturePoint[] | null;
  readonly lastRetrain: number | null;
}

const PERIODS = 6;
const BAD_PHASES = new Set(['rolled-back', 'aborted', 'mixed']);
const ENDED_PHASES = new Set(['promoted', ...BAD_PHASES]);

/** Everything `augur model status` shows, from the store alone. */
export async function modelStatus(store: Store): Promise<ModelStatus> {
  const versions = (await store.listModelVersions()).map((v) => v.summary as ModelSetSummary);
  const rows = await store.modelRows();
  const perService: Record<string, number> = {};
  for (const r of rows) perService[r.service] = (perService[r.service] ?? 0) + 1;
  const span = rows.length === 0 ? null : { from: rows[0]?.at ?? 0, to: rows[rows.length - 1]?.at ?? 0 };

  const releases = new Map((await store.listReleases()).map((r) => [r.name, r.phase]));
  // The latest prediction of each release is the one its rollout followed.
  const latest = new Map<string, { risk: number; predictedAt: number }>();
  for (const p of await store.listPredictions())
    latest.set(p.release, { risk: p.risk, predictedAt: p.predictedAt });
  const outcomes: ReleaseOutcome[] = [...latest].map(([release, p]) => {
    const phase = releases.get(release) ?? null;
    const ended = phase !== null && ENDED_PHASES.has(phase);
    return {
      release,
      risk: p.risk,
      predictedAt: p.predictedAt,
      phase,
      bad: ended ? BAD_PHASES.has(phase) : null,
    };
  });
  const ended = outcomes.filter((o) => o.bad !== null);
  return {
    current: versions[0] ?? null,
    versions,
    data: { rows: rows.length, span, perService },
    learnedFrom: LEARNED_FROM,
    coverage: coverageSlices(rows, span),
    outcomes,
    reliability:
      ended.length === 0
        ? null
        : reliabilityTable(
            ended.map((o) => o.risk),
            ended.map((o) => o.bad === true),
            5,
          ),
    capture:
      ended.length === 0
        ? null
        : captureCurve(
            ended.map((o) => o.risk),
            ended.map((o) => o.bad === true),
          ),
    lastRetrain: versions[0]?.createdAt ?? null,
  };
}

function coverageSlices(
  rows: readonly StoredModelRow[],
  span: { from: number; to: number } | null,
): CoverageSlice[] {
  const slices = new Map<
    string,
    { service: string; metric: ModelMetric; hits: { at: number; covered: boolean; learned: boolean }[] }
  >();
  for (const row of rows) {
    if (row.ranges === null) continue;
    for (const metric of MODEL_METRICS) {
      const range = row.ranges[metric];
      const observed = row.observed[metric];
      if (range === undefined || observed === null || observed === undefined) continue;
      const key = `${row.service}\u0000${metric}`;
      const slice = slices.get(key) ?? { service: row.service, metric, hits: [] };
      slice.hits.push({
        at: row.at,
        covered: observed >= range.low && observed <= range.high,
        learned: range.source === 'learned',
      });
      slices.set(key, slice);
    }
  }
  const width = span === null ? 1 : Math.max(1, (span.to - span.from + 1) / PERIODS);
  return [...slices.values()].map(({ service, metric, hits }) => {
    const learned = hits.filter((h) => h.learned);
    const periods = Array.from({ length: PERIODS }, (_, i) => {
      const from = (span?.from ?? 0) + i * width;
      const inside = hits.filter((h) => h.at >= from && h.at < from + width);
      return { from: Math.round(from), n: inside.length, coverage: share(inside) };
    }).filter((p) => p.n > 0);
    return {
      service,
      metric,
      n: hits.length,
      coverage: share(hits),
      learned: learned.length,
      learnedCoverage: learned.length === 0 ? null : share(learned),
      overTime: periods,
    };
  });
}

/** The coverage the ranges aim at: they are 90% ranges (α = 0.1). */
export const COVERAGE_TARGET = 0.9;

/**
 * Whether a coverage measured over `n` windows is off the 90% target by more than chance explains:
 * more than three binomial standard deviations and more than 3 points away (windows in a row are
 * not independent, so one standard deviation understates the noise). 'low' ranges miss too often,
 * 'high' ones are wider than they need be; null when it is within reach (or n is 0).
 */
export function coverageVerdict(coverage: number | null, n: number): 'low' | 'high' | null {
  if (coverage === null || !Number.isFinite(coverage) || n <= 0) return null;
  const sd = Math.sqrt((COVERAGE_TARGET * (1 - COVERAGE_TARGET)) / n);
  const off = coverage - COVERAGE_TARGET;
  if (Math.abs(off) <= Math.max(3 * sd, 0.03)) return null;
  return off < 0 ? 'low' : 'high';
}

function share(hits: readonly { covered: boolean }[]): number {
  return hits.length === 0 ? Number.NaN : hits.filter((h) => h.covered).length / hits.length;
}
