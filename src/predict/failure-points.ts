import type { ApplicationConfig, ReleaseConfig } from '../config/types.js';
import type { SimRunResult } from '../sim/model.js';
import { limitOf, metricsOf, overLimit } from './judge.js';
import type { Scenario } from './scenarios.js';
import type { FailurePoint, PredictedMetric, UtilisationCurve } from './types.js';

export interface FailureInput {
  readonly app: ApplicationConfig;
  readonly release: ReleaseConfig;
  readonly scenarios: readonly Scenario[];
  readonly seeds: readonly number[];
  readonly run: (scenario: string, seed: number, share: number) => SimRunResult | undefined;
  readonly utilisation: readonly UtilisationCurve[];
  readonly canaries: ReadonlyMap<string, string>;
}

/** Saturation beyond this many times the nominal load is not reported as a failure point. */
const REPORT_BEYOND = 4;
const SLOTS_SATURATED = 0.95;
const AMPLIFICATION = 1.1;

/**
 * What breaks first, at what load and under which scenario: saturation of CPU and concurrency from
 * the utilisation sweep (and the tier at which a canary's share of the load reaches it), limits
 * breached at a tier under nominal load, retry amplification and cascades of failing dependencies.
 * Sorted: the release's failure points at a tier first (lowest tier first), then by load multiple.
 */
export function failurePoints(input: FailureInput): FailurePoint[] {
  const { app, release } = input;
  const points: FailurePoint[] = [];

  for (const curve of input.utilisation) {
    const at1 = curve.points.find((p) => p.loadMultiple === 1);
    if (at1 === undefined) continue;
    const canary = input.canaries.get(curve.service) === curve.revision;
    const limit = limitOf(app, curve.service, 'cpuUtilisation');
    const cpuSaturatesAt = at1.cpu > 0 ? 1 / at1.cpu : Infinity;
    const slotsSaturateAt = saturationMultiple(curve.points.map((p) => ({ x: p.loadMultiple, y: p.slots })));
    const who = `${curve.service} ${curve.revision}`;
    if (canary) {
      // The canary's load is its tier's share of the service's: utilisation grows with the tier.
      const tierOver = (threshold: number): number | null =>
        release.tiers.find((t) => (t / 100) * at1.cpu > threshold) ?? null;
      const saturationTier = tierOver(1);
      const limitTier = limit === null ? null : tierOver(limit);
      if (saturationTier !== null) {
        points.push({
          kind: 'cpu-saturation',
          service: curve.service,
          revision: curve.revision,
          resource: 'cpu',
          loadMultiple: cpuSaturatesAt,
          tier: saturationTier,
          scenario: 'nominal',
          detail:
            `${who} needs ${pct((saturationTier / 100) * at1.cpu)} of its CPU allocation at the ${saturationTier}% tier ` +
            `under nominal load: its CPU saturates there (at ${times(cpuSaturatesAt)} the nominal load with all traffic)`,
        });
      }
      if (limitTier !== null && limit !== null && limitTier !== saturationTier) {
        points.push({
          kind: 'limit-breach',
          service: curve.service,
          revision: curve.revision,
          resource: 'cpuUtilisation',
          loadMultiple: at1.cpu > 0 ? limit / at1.cpu : null,
          tier: limitTier,
          scenario: 'nominal',
          detail: `${who} uses ${pct((limitTier / 100) * at1.cpu)} of its CPU allocation at the ${limitTier}% tier under nominal load, over its limit of ${pct(limit)}`,
        });
      }
    }
    if (cpuSaturatesAt <= REPORT_BEYOND && !(canary && cpuSaturatesAt <= 1)) {
      points.push({
        kind: 'cpu-saturation',
        service: curve.service,
        revision: curve.revision,
        resource: 'cpu',
        loadMultiple: cpuSaturatesAt,
        tier: null,
        scenario: 'nominal',
        detail: `${who} saturates its CPU allocation at ${times(cpuSaturatesAt)} the nominal load`,
      });
    }
    if (slotsSaturateAt !== null && slotsSaturateAt <= REPORT_BEYOND) {
      points.push({
        kind: 'concurrency-saturation',
        service: curve.service,
        revision: curve.revision,
        resource: 'concurrency',
        loadMultiple: slotsSaturateAt,
        tier: null,
        scenario: 'nominal',
        detail: `${who} has every concurrency slot busy (requests queue) at ${times(slotsSaturateAt)} the nominal load`,
      });
    }
  }

  // Latency and error limits breached by a canary at a tier under nominal load (most seeds).
  const nominal = input.scenarios.find((s) => s.family === 'nominal');
  if (nominal !== undefined) {
    for (const [service, revision] of input.canaries) {
      for (const metric of ['latencyP99Ms', 'errorRate'] as const satisfies readonly PredictedMetric[]) {
        for (const tier of release.tiers) {
          let over = 0;
          let value = 0;
          for (const seed of input.seeds) {
            const r = input.run(nominal.name, seed, tier / 100);
            const m = r === undefined ? null : metricsOf(r, service, revision);
            if (m !== null && overLimit(app, service, metric, m) === true) {
              over++;
              value += m[metric];
            }
          }
          if (over > 0 && over * 2 >= input.seeds.length) {
            const limit = limitOf(app, service, metric) ?? 0;
            points.push({
              kind: 'limit-breach',
              service,
              revision,
              resource: metric,
              loadMultiple: null,
              tier,
              scenario: nominal.name,
              detail: `${service} ${revision} ${metric === 'errorRate' ? `fails ${pct(value / over)} of requests` : `p99 ${(value / over).toFixed(0)} ms`} at the ${tier}% tier under nominal load (limit ${metric === 'errorRate' ? pct(limit) : `${limit} ms`})`,
            });
            break;
          }
        }
      }
    }
  }

  // Retries that multiply load, and failures that cascade to callers, with the release at 100%.
  const seed = input.seeds[0];
  const nominalFull =
    nominal === undefined || seed === undefined ? undefined : input.run(nominal.name, seed, 1);
  for (const scenario of input.scenarios) {
    if (seed === undefined) break;
    const r = input.run(scenario.name, seed, 1);
    if (r === undefined) continue;
    for (const s of r.services) {
      if (s.retryAmplification > AMPLIFICATION) {
        points.push({
          kind: 'retry-amplification',
          service: s.service,
          revision: s.revisions.map((x) => x.revision).join('+'),
          resource: 'retries',
          loadMultiple: null,
          tier: null,
          scenario: scenario.name,
          detail: `under ${scenario.name}, calls to ${s.service} are retried: ${s.retryAmplification.toFixed(2)}× attempts per call`,
        });
      }
    }
    if (scenario.family !== 'down' && scenario.family !== 'slow') continue;
    const origin = Object.keys(scenario.perturb)[0] ?? '';
    const victims: string[] = [];
    for (const s of r.services) {
      if (s.service === origin) continue;
      const failing = s.revisions.some((rev) => {
        const m = metricsOf(r, s.service, rev.revision);
        const before = nominalFull === undefined ? null : metricsOf(nominalFull, s.service, rev.revision);
        return (
          m !== null &&
          overLimit(app, s.service, 'errorRate', m) === true &&
          (before === null || overLimit(app, s.service, 'errorRate', before) !== true)
        );
      });
      if (failing) victims.push(s.service);
    }
    if (victims.length > 0) {
      points.push({
        kind: 'cascade',
        service: origin,
        revision: app.services[origin]?.stable ?? '',
        resource: 'errors',
        loadMultiple: null,
        tier: null,
        scenario: scenario.name,
        detail: `${origin} ${scenario.family === 'down' ? 'failing' : 'slowed'} makes ${victims.length === 1 ? `${victims[0]} breach its error limit` : `${victims.slice(0, -1).join(', ')} and ${victims.at(-1)} breach their error limits`}`,
      });
    }
  }

  // The release's own failure points (at a tier) first, earliest tier first; then what saturates at
  // the lowest load; then scenario findings (retries, cascades).
  return points.sort(
    (a, b) =>
      (a.tier ?? Infinity) - (b.tier ?? Infinity) ||
      (a.loadMultiple ?? Infinity) - (b.loadMultiple ?? Infinity) ||
      a.service.localeCompare(b.service),
  );
}

/** Load multiple at which y reaches SLOTS_SATURATED, by linear interpolation; null when never. */
function saturationMultiple(points: readonly { x: number; y: number }[]): number | null {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  let previous: { x: number; y: number } | undefined;
  for (const p of sorted) {
    if (p.y >= SLOTS_SATURATED) {
      if (previous === undefined || p.y === previous.y) return p.x;
      return previous.x + ((SLOTS_SATURATED - previous.y) * (p.x - previous.x)) / (p.y - previous.y);
    }
    previous = p;
  }
  return null;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

function times(x: number): string {
  return `${x.toFixed(2)}×`;
}
