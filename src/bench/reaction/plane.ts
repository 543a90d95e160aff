import type { ControlledPlane } from '../../controller/controller.js';
import type { Clock } from '../../core/clock.js';
import type { MetricsProvider } from '../../metrics/provider.js';

/**
 * The same data plane seen through a metrics provider that refuses windows that are not complete
 * yet: the controller then decides on complete seconds only, as it did before the current-second
 * guard. Running both in one benchmark measures what the guard buys.
 */
export function completeWindowsOnly(plane: ControlledPlane, clock: Clock): ControlledPlane {
  const source = plane.provider;
  const complete = (to: number): boolean => to <= Math.floor(clock.now() / 1000) * 1000;
  const refuse = (): Promise<never> => Promise.reject(new Error('window not complete'));
  const provider: MetricsProvider = {
    aggregate: (q) => (complete(q.to) ? source.aggregate(q) : refuse()),
    quantile: (q) => (complete(q.to) ? source.quantile(q) : refuse()),
    exceedances: (q) => (complete(q.to) ? source.exceedances(q) : refuse()),
    series: (q) => source.series(q),
    revisions: () => source.revisions(),
  };
  return {
    application: plane.application,
    provider,
    setTraffic: (service, revision, weight) => plane.setTraffic(service, revision, weight),
    promote: (service, revision) => plane.promote(service, revision),
    stopRevision: (service, revision) => plane.stopRevision(service, revision),
    stableOf: (service) => plane.stableOf(service),
    crashLooping: (service, revision) => plane.crashLooping(service, revision),
  };
}
