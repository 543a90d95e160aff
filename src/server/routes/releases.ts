import type { RolloutController } from '../../controller/controller.js';
import { applicationAsRunning } from '../../controller/controller.js';
import { redactDeep } from '../../core/redact.js';
import type { ReleaseRecord } from '../../store/store.js';
import { HttpError, readBody, readJson, reply } from '../http.js';
import { parseAction } from '../release-actions.js';
import { intakeRelease, postedName } from '../release-intake.js';
import { releaseView } from '../release-view.js';
import type { ApiDeps, Route, RouteContext } from './route.js';
import { param } from './route.js';

const NAME = '([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)';

export async function findRelease(deps: ApiDeps, name: string): Promise<ReleaseRecord> {
  const record = await deps.plane.store.getRelease(name);
  if (record === null) throw new HttpError(404, 'NOT_FOUND', `no release named ${name}`);
  return record;
}

const exists = (name: string): HttpError =>
  new HttpError(409, 'RELEASE_EXISTS', `a release named ${name} exists already`);

function controllerOf(deps: ApiDeps): RolloutController {
  if (deps.controller === null)
    throw new HttpError(503, 'NO_CONTROLLER', 'this Augur runs no rollout controller');
  return deps.controller;
}

function integer(ctx: RouteContext, name: string, fallback: number, min: number, max: number): number {
  const text = ctx.url.searchParams.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new HttpError(400, 'BAD_REQUEST', `${name} must be an integer in [${min}, ${max}], got "${text}"`);
  return value;
}

export function releaseRoutes(deps: ApiDeps): Route[] {
  // Submissions one at a time: the name and overlap checks must not interleave with another's.
  let submissions: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = submissions.then(work, work);
    submissions = next.catch(() => undefined);
    return next;
  };

  return [
    {
      method: 'GET',
      pattern: /^\/api\/v1\/releases$/,
      role: 'viewer',
      handle: async ({ res, url }) => {
        const phase = url.searchParams.get('phase');
        const records = await deps.plane.store.listReleases();
        const views = records.map(releaseView).filter((v) => phase === null || v.phase === phase);
        reply(res, 200, { releases: views });
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/v1\/releases$/,
      role: 'operator',
      handle: async ({ req, res }) => {
        const controller = controllerOf(deps);
        const body = await readBody(req);
        // A name taken is the first thing to say: the client may want to follow that release.
        const named = postedName(body);
        if (named !== undefined && (await deps.plane.store.getRelease(named)) !== null) throw exists(named);
        const policy = { ...deps.policy, application: applicationAsRunning(deps.plane) };
        const release = await intakeRelease(body, req.headers['content-type'], policy);
        await serially(async () => {
          if ((await deps.plane.store.getRelease(release.name)) !== null) {
            throw exists(release.name);
          }
          await controller.submit(release);
        });
        const view = releaseView(await findRelease(deps, release.name));
        reply(res, 201, view, { location: `/api/v1/releases/${release.name}` });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/releases/${NAME}$`),
      role: 'viewer',
      handle: async (ctx) => {
        const record = await findRelease(deps, param(ctx, 0));
        // The spec may hold addresses with credentials (a check's URL, a database to back up):
        // every role sees them masked.
        reply(ctx.res, 200, {
          ...releaseView(record),
          spec: redactDeep(record.spec),
          state: redactDeep(record.state),
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/releases/${NAME}/events$`),
      role: 'viewer',
      handle: async (ctx) => {
        const name = param(ctx, 0);
        await findRelease(deps, name);
        const after = integer(ctx, 'after', -1, -1, Number.MAX_SAFE_INTEGER);
        const limit = integer(ctx, 'limit', 1000, 1, 10_000);
        const events = await deps.plane.store.releaseEvents(name, after);
        const page = events.slice(0, limit);
        reply(ctx.res, 200, { events: redactDeep(page), more: events.length > page.length });
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/api/v1/releases/${NAME}/actions$`),
      role: 'operator',
      handle: async (ctx) => {
        const controller = controllerOf(deps);
        const name = param(ctx, 0);
        const record = await findRelease(deps, name);
        const body = await readJson(ctx.req);
        const state = controller.state(name);
        if (record.phase !== 'running' || state === null) {
          throw new HttpError(409, 'CONFLICT', `release ${name} is not running (${record.phase})`);
        }
        const command = parseAction(body, state);
        await controller.command(name, command, ctx.principal.name);
        reply(ctx.res, 200, releaseView(await findRelease(deps, name)));
      },
    },
  ];
}
