import { percentToBasisPoints } from '../../config/types.js';
import { isTerminal } from '../../controller/core/release.js';
import type { ReleaseState } from '../../controller/core/types.js';
import type { DataPlane } from '../dataplane.js';
import { HttpError, isObject, readJson, reply, replyText } from '../http.js';
import { metricsReport } from '../metrics-report.js';
import { PROMETHEUS_CONTENT_TYPE } from '../prometheus.js';
import type { ApiDeps, Route } from './route.js';
import { param } from './route.js';

/** What `GET /api/v1/status` (and `augur up`'s callers) have always read. */
export async function planeStatus(plane: DataPlane): Promise<unknown> {
  const splits = await plane.splits();
  const instances = plane.instances();
  return {
    application: plane.application.name,
    services: Object.values(plane.application.services).map((s) => ({
      name: s.name,
      address: plane.router.address(s.name),
      stable: plane.stableOf(s.name),
      revisions: Object.keys(s.revisions),
      split: splits.find((x) => x.service === s.name),
      instances: instances.filter((i) => i.service === s.name),
    })),
  };
}

async function applicationSummary(deps: ApiDeps): Promise<unknown> {
  const { plane } = deps;
  const app = plane.application;
  const splits = await plane.splits();
  const instances = plane.instances();
  const releases = await deps.plane.store.listReleases();
  const phases: Record<string, number> = {};
  for (const r of releases) phases[r.phase] = (phases[r.phase] ?? 0) + 1;
  return {
    name: app.name,
    entrypoint: app.entrypoint,
    router: app.router.kind,
    metrics: app.metrics.kind,
    releases: phases,
    services: Object.values(app.services).map((s) => {
      const split = splits.find((x) => x.service === s.name);
      const mine = instances.filter((i) => i.service === s.name);
      return {
        name: s.name,
        address: plane.router.address(s.name),
        stable: plane.stableOf(s.name),
        canary: split?.canary ?? null,
        canaryWeight: (split?.canaryWeight ?? 0) / 100,
        revisions: Object.keys(s.revisions),
        instances: { total: mine.length, ready: mine.filter((i) => i.state === 'ready').length },
        calls: s.calls.map((c) => c.service),
        limits: s.limits,
      };
    }),
  };
}

/** The release the store says is rolling a canary out in `service`, if any. */
async function storedRollout(
  deps: ApiDeps,
  service: string,
): Promise<{ release: string; canary: string } | null> {
  for (const record of await deps.plane.store.listReleases()) {
    if (record.phase !== 'running') continue;
    const state = record.state as ReleaseState;
    const track = state.tracks.find((t) => t.service === service && !isTerminal(t));
    if (track !== undefined) return { release: record.name, canary: track.canary };
  }
  return null;
}

export function planeRoutes(deps: ApiDeps): Route[] {
  const { plane } = deps;
  return [
    {
      method: 'GET',
      pattern: /^\/api\/v1\/status$/,
      role: 'viewer',
      handle: async ({ res }) => reply(res, 200, await planeStatus(plane)),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/applications$/,
      role: 'viewer',
      handle: async ({ res }) => reply(res, 200, { applications: [await applicationSummary(deps)] }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/metrics$/,
      role: 'viewer',
      handle: async ({ res, url }) => {
        const windowSeconds = Number(url.searchParams.get('window') ?? '60');
        if (!Number.isFinite(windowSeconds) || windowSeconds <= 0)
          throw new HttpError(400, 'BAD_REQUEST', 'window must be > 0 seconds');
        const service = url.searchParams.get('service') ?? undefined;
        reply(res, 200, await metricsReport(plane, windowSeconds * 1000, service));
      },
    },
    {
      method: 'GET',
      pattern: /^\/metrics$/,
      role: 'viewer',
      handle: async ({ res }) => {
        const text = await deps.metrics.render(plane, plane.store);
        replyText(res, 200, text, PROMETHEUS_CONTENT_TYPE);
      },
    },
    ...['PUT', 'POST'].map((method): Route => ({
      method: method as 'PUT' | 'POST',
      pattern: /^\/api\/v1\/services\/([^/]+)\/traffic$/,
      role: 'admin',
      handle: async (ctx) => {
        const body = await readJson(ctx.req);
        if (!isObject(body)) throw new HttpError(400, 'BAD_REQUEST', 'body must be { revision, weight }');
        if (typeof body['revision'] !== 'string')
          throw new HttpError(400, 'BAD_REQUEST', 'revision (string) is required');
        const weight = body['weight'];
        if (typeof weight !== 'number' || !(weight >= 0 && weight <= 100)) {
          throw new HttpError(400, 'BAD_REQUEST', 'weight must be a number of percent in [0, 100]');
        }
        const bp = percentToBasisPoints(weight);
        if (Math.abs(bp - weight * 100) > 1e-6)
          throw new HttpError(400, 'BAD_REQUEST', 'weight is limited to steps of 0.01%');
        const service = param(ctx, 0);
        const revision = body['revision'];
        const apply = async () => {
          const before = await plane.router.getSplit(service);
          const split = await plane.setTraffic(service, revision, bp);
          // A canary the new split no longer sends traffic to is stopped (once the router took the
          // new split): processes left running at weight 0 would serve nothing and hold ports.
          if (before.canary !== null && !(split.canary === before.canary && split.canaryWeight > 0))
            await plane.stopRevision(service, before.canary);
          return split;
        };
        // A release rolling out in the service owns its split: a hand-set one would undo its tiers.
        // With a controller, it also keeps a release from starting there while this one applies.
        if (deps.controller !== null) {
          reply(ctx.res, 200, await deps.controller.setByHand(service, revision, apply));
          return;
        }
        // Without one (`augur up`), a release stored as running still owns its services' splits:
        // the server that resumes it would find its weights changed behind its back.
        const stored = await storedRollout(deps, service);
        if (stored !== null) {
          throw new HttpError(
            409,
            'SERVICE_BUSY',
            `release ${stored.release} is rolling ${stored.canary} out in ${service} (stored as running; resume it with augur server): leave its split to it, or abort it there`,
          );
        }
        reply(ctx.res, 200, await apply());
      },
    })),
  ];
}
