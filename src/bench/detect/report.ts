import type { CaseFigures, JudgeFigures } from './summary.js';

/** Targets of bench:detect. */
export const TARGETS = { oracleRatio: 1.5, badRequestFactor: 10 } as const;

/** The judge standing for "Flagger's defaults" (60 s interval, threshold 1: its code default). */
export const FLAGGER_DEFAULT = 'flagger-t1';

export interface AaFigures {
  readonly runs: number;
  readonly falseRollbackRate: number;
  readonly baselines: Readonly<Record<string, number>>;
}

export interface Check {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

/** Wilson's 95% upper bound on a rate from `k` of `n`. */
function wilsonUpper(k: number, n: number): number {
  const z = 1.96;
  const p = k / n;
  const centre = p + (z * z) / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return (centre + spread) / (1 + (z * z) / n);
}

export function checks(alpha: number, aa: AaFigures, cases: readonly CaseFigures[]): Check[] {
  const out: Check[] = [];
  const falseRollbacks = Math.round(aa.falseRollbackRate * aa.runs);
  out.push({
    name: 'A/A false-rollback rate ≤ α',
    pass: aa.falseRollbackRate <= alpha,
    detail: `${fmtRate(aa.falseRollbackRate)} (${falseRollbacks} of ${aa.runs}; 95% upper bound ${fmtRate(wilsonUpper(falseRollbacks, aa.runs))}) vs α ${alpha}`,
  });
  for (const c of cases) {
    if (c.oracleSamples === null) continue;
    const r = c.augur.ratioToOracle;
    out.push({
      name: `median/oracle ≤ ${TARGETS.oracleRatio}: ${c.name}`,
      pass: r !== null && r <= TARGETS.oracleRatio,
      detail:
        r === null
          ? `not detected in half the streams within the horizon (oracle ${fmt(c.oracleSamples)})`
          : `${r.toFixed(2)}× (${fmt(c.augur.medianSamples)} vs ${fmt(c.oracleSamples)})`,
    });
  }
  for (const flagger of [FLAGGER_DEFAULT, 'flagger-t5']) {
    const frr = aa.baselines[flagger] ?? Number.NaN;
    const fairFrr = aa.falseRollbackRate <= frr;
    const rollout = cases.filter((c) => c.oracleSamples !== null && c.plan.startsWith('tiers'));
    let ours = 0;
    let theirs = 0;
    for (const c of rollout) {
      const f = c.baselines[flagger];
      if (f === undefined) continue;
      ours += c.augur.badRequests;
      theirs += f.badRequests;
      const factor = f.badRequests / Math.max(c.augur.badRequests, 1e-9);
      out.push({
        name: `≥ ${TARGETS.badRequestFactor}× fewer bad requests than ${flagger}: ${c.name}`,
        pass: fairFrr && factor >= TARGETS.badRequestFactor,
        detail: `${factor.toFixed(2)}× (${fmt(c.augur.badRequests)} vs ${fmt(f.badRequests)})`,
      });
    }
    const factor = theirs / Math.max(ours, 1e-9);
    out.push({
      name: `≥ ${TARGETS.badRequestFactor}× fewer bad requests than ${flagger}, all regressions of the rollout${flagger === FLAGGER_DEFAULT ? ' (Flagger defaults)' : ''}`,
      pass: fairFrr && factor >= TARGETS.badRequestFactor,
      detail: `${factor.toFixed(2)}× (${fmt(ours)} vs ${fmt(theirs)} mean requests per release, summed over cases); A/A false rollbacks ${fmtRate(aa.falseRollbackRate)} vs ${fmtRate(frr)}${fairFrr ? '' : ' — Augur’s is higher, so no comparison'}`,
    });
  }
  return out;
}

export function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 1e5) return `${(x / 1000).toFixed(0)}k`;
  if (Math.abs(x) >= 100) return x.toFixed(0);
  return x.toFixed(1);
}

function fmtRate(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export function table(
  alpha: number,
  aa: AaFigures,
  cases: readonly CaseFigures[],
  results: readonly Check[],
): string {
  const judges = Object.keys(cases[0]?.baselines ?? {});
  const lines: string[] = [];
  const w = 32;
  lines.push('Samples to detect (median canary requests until rollback; — = not in half the streams)');
  lines.push(
    "(oracle@k: the same oracle at the level of one of Augur's k rollback tests, α/k; " +
      'oracle@k/oracle is what splitting α costs even a test that knows the effect)',
  );
  const ratio = (r: number | null): string => (r === null ? '—' : r.toFixed(2));
  lines.push(
    pad('case', w) +
      lpad('oracle', 8) +
      lpad('oracle@k', 9) +
      lpad('augur', 9) +
      lpad('×oracle', 8) +
      lpad('×@k', 6) +
      judges.map((j) => lpad(j, 12)).join(''),
  );
  for (const c of cases) {
    lines.push(
      pad(c.name, w) +
        lpad(fmt(c.oracleSamples), 8) +
        lpad(fmt(c.oracleAtTestLevel), 9) +
        lpad(fmt(c.augur.medianSamples), 9) +
        lpad(ratio(c.augur.ratioToOracle), 8) +
        lpad(ratio(c.augur.ratioToTestLevelOracle), 6) +
        judges.map((j) => lpad(fmt(c.baselines[j]?.medianSamples ?? null), 12)).join(''),
    );
  }
  lines.push('');
  lines.push('Detection rate / mean requests served by the canary up to the horizon (bad requests)');
  const cell = (f: JudgeFigures | undefined): string =>
    f === undefined ? '—' : `${f.detectionRate.toFixed(2)} ${fmt(f.badRequests)}`;
  lines.push(pad('case', w) + lpad('augur', 14) + judges.map((j) => lpad(j, 14)).join(''));
  for (const c of cases) {
    lines.push(
      pad(c.name, w) + lpad(cell(c.augur), 14) + judges.map((j) => lpad(cell(c.baselines[j]), 14)).join(''),
    );
  }
  lines.push('');
  lines.push(`A/A: ${aa.runs} whole tiered rollouts, false-rollback rate (α = ${alpha})`);
  lines.push(
    `  augur ${fmtRate(aa.falseRollbackRate)}   ` +
      Object.entries(aa.baselines)
        .map(([j, r]) => `${j} ${fmtRate(r)}`)
        .join('   '),
  );
  const aaRollout = cases.find((c) => c.effect === 'A/A' && c.plan.startsWith('tiers'));
  if (aaRollout !== undefined) {
    const took = (f: JudgeFigures | undefined): string =>
      f === undefined ? '—' : `${fmtRate(f.promotedRate)} in ${fmt(f.medianPromotedS)} s`;
    lines.push(
      `  promoted, and the median time to promotion: augur ${took(aaRollout.augur)}   ` +
        judges.map((j) => `${j} ${took(aaRollout.baselines[j])}`).join('   '),
    );
  }
  lines.push('');
  const ratios = (pick: (c: CaseFigures) => boolean): string => {
    const rs = cases.filter((c) => c.oracleSamples !== null && pick(c)).map((c) => c.augur.ratioToOracle);
    const found = rs.filter((r): r is number => r !== null).sort((a, b) => a - b);
    const mid = found[found.length >> 1];
    return `median ${mid === undefined ? '—' : mid.toFixed(2)} over ${found.length} (${rs.length - found.length} not reached)`;
  };
  lines.push(
    `Augur median/oracle across cases: all ${ratios(() => true)}; errors ${ratios((c) => c.effect.startsWith('errors'))}; latency ${ratios((c) => c.effect.startsWith('latency'))}`,
  );
  const splitCost = cases
    .filter((c) => c.oracleSamples !== null && c.oracleAtTestLevel !== null)
    .map((c) => (c.oracleAtTestLevel ?? 0) / (c.oracleSamples ?? 1));
  if (splitCost.length > 0)
    lines.push(
      `Splitting α over the rollback tests alone costs an oracle ${Math.min(...splitCost).toFixed(2)}–${Math.max(...splitCost).toFixed(2)}× (oracle@k / oracle)`,
    );
  lines.push('');
  for (const r of results) lines.push(`${r.pass ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail}`);
  return `${lines.join('\n')}\n`;
}
