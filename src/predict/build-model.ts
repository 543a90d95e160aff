import type { ApplicationConfig, ReleaseConfig, ServiceConfig } from '../config/types.js';
import type { ServiceTimeDistribution, SimModel, SimRevision, SimService } from '../sim/model.js';
import type { ServiceProfile } from '../sim/profile.js';
import type { Scenario } from './scenarios.js';

/** Looks up the profile of a service's revision. */
export type ProfileLookup = (service: string, revision: string) => ServiceProfile;

export interface ModelShape {
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Multiplies the scenario's rate (the utilisation sweep). Default 1. */
  readonly loadMultiple?: number;
}

/** The canary revision of each changed service. */
export function changedServices(release: ReleaseConfig): Map<string, string> {
  return new Map(release.changes.map((c) => [c.service, c.revision]));
}

/**
 * The queueing network of an application at one tier: each changed service splits its requests
 * between the stable revision (1 − share) and the canary (share), each on its own replicas, as the
 * process runtime runs them. `share` is a fraction in [0, 1]; 0 is the baseline (stable only).
 */
export function buildModel(
  app: ApplicationConfig,
  canaries: ReadonlyMap<string, string>,
  share: number,
  scenario: Scenario,
  profile: ProfileLookup,
  shape: ModelShape,
): SimModel {
  const names = Object.keys(app.services);
  const index = new Map(names.map((name, i) => [name, i]));
  const services: SimService[] = names.map((name) => {
    const service = app.services[name] as ServiceConfig;
    const canary = canaries.get(name);
    const revisions: SimRevision[] = [];
    const stableShare = canary === undefined ? 1 : 1 - share;
    if (stableShare > 0) revisions.push(revision(service, service.stable, stableShare, scenario, profile));
    if (canary !== undefined && share > 0)
      revisions.push(revision(service, canary, share, scenario, profile));
    return {
      name,
      revisions,
      timeoutMs: service.policies.timeoutMs,
      retries: service.policies.retries,
      calls: service.calls.map((call) => ({
        service: index.get(call.service) ?? 0,
        perRequest: call.perRequest,
        mode: call.mode,
      })),
    };
  });
  const loadMultiple = shape.loadMultiple ?? 1;
  return {
    services,
    entrypoint: index.get(app.entrypoint) ?? 0,
    arrivals: { ratePerSec: scenario.ratePerSec * loadMultiple, segments: scenario.segments },
    durationMs: shape.durationMs,
    warmupMs: shape.warmupMs,
  };
}

function revision(
  service: ServiceConfig,
  name: string,
  share: number,
  scenario: Scenario,
  profile: ProfileLookup,
): SimRevision {
  const measured = profile(service.name, name);
  const perturb = scenario.perturb[service.name];
  let serviceTime = measured.serviceTime;
  if (perturb?.latencyMultiplier !== undefined) serviceTime = scale(serviceTime, perturb.latencyMultiplier);
  if (perturb?.medianOfTimeout !== undefined) {
    const median = measured.serviceTimeMs.p50 > 0 ? measured.serviceTimeMs.p50 : 1;
    serviceTime = scale(
      serviceTime,
      Math.max(1, (perturb.medianOfTimeout * service.policies.timeoutMs) / median),
    );
  }
  return {
    name,
    share,
    replicas: service.resources.replicas,
    concurrency: service.resources.concurrency,
    cpuCores: service.resources.cpu,
    serviceTime,
    cpuMsPerRequest: measured.cpuMsPerRequest,
    errorProbability: perturb?.down === true ? 1 : measured.errorProbability,
  };
}

/** The same distribution with every duration multiplied by `factor`. */
export function scale(d: ServiceTimeDistribution, factor: number): ServiceTimeDistribution {
  switch (d.kind) {
    case 'deterministic':
      return { kind: 'deterministic', ms: d.ms * factor };
    case 'exponential':
      return { kind: 'exponential', meanMs: d.meanMs * factor };
    case 'lognormal':
      return { kind: 'lognormal', medianMs: d.medianMs * factor, sigma: d.sigma };
    case 'empirical':
      return { kind: 'empirical', samplesMs: d.samplesMs.map((x) => x * factor) };
  }
}
