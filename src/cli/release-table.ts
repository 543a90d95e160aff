import type { ReleaseView } from '../server/release-view.js';
import { table } from './format.js';

const pct = (value: number): string => `${Number(value.toFixed(2))}%`;

/** One row per changed service of each release: what `augur status` prints. */
export function releasesTable(releases: readonly ReleaseView[]): string {
  if (releases.length === 0) return 'no releases\n';
  const rows: string[][] = [];
  for (const r of releases) {
    if (r.services.length === 0) rows.push([r.name, r.phase, '-', '-', '-', '-', '-', '-', '']);
    for (const s of r.services) {
      const weight = s.weight === s.targetWeight ? pct(s.weight) : `${pct(s.weight)}→${pct(s.targetWeight)}`;
      // A promotion (by its tiers, or by an operator) passes every tier, whichever was current.
      const tier =
        s.phase === 'promoted' || s.phase === 'promoting'
          ? `${s.tiers.length}/${s.tiers.length} (100%)`
          : s.tier === null
            ? '-'
            : `${s.tierIndex + 1}/${s.tiers.length} (${pct(s.tier)})`;
      rows.push([
        r.name,
        r.phase,
        s.service,
        `${s.stable}→${s.canary}`,
        tier,
        weight,
        s.phase,
        s.risk === null ? '-' : `${Math.round(s.risk.value * 100)}%`,
        s.reason ?? '',
      ]);
    }
  }
  return table(
    ['release', 'phase', 'service', 'revisions', 'tier', 'weight', 'state', 'risk', 'reason'],
    rows,
  );
}

/** A one-line summary of a release after an action. */
export function releaseLine(r: ReleaseView): string {
  const services = r.services
    .map((s) => `${s.service} ${s.phase}${s.tier !== null ? ` at ${pct(s.tier)}` : ''}`)
    .join(', ');
  return `${r.name}: ${r.phase} (${services})`;
}
