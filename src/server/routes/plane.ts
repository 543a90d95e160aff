import { percentToBasisPoints } from '../../config/types.js';
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
        // A release rolling out in the service owns its split: a hand-set one would undo its tiers.
        const busy = deps.controller?.changing(service) ?? null;
        if (busy !== null) {
          throw new HttpError(
            409,
            'SERVICE_BUSY',
            `release ${busy.release} is rolling ${busy.canary} out in ${service}: pause, abort or roll it back instead`,
          );
        }
        reply(ctx.res, 200, await plane.setTraffic(service, body['revision'], bp));
      },
    })),
  ];
}
