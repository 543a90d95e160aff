import type { ReleaseEvent } from '../../controller/core/events.js';
import { redactDeep } from '../../core/redact.js';
import type { StoredEvent } from '../../store/store.js';
import { HttpError } from '../http.js';
import type { ApiLimits } from '../limits.js';
import { SseStream } from '../sse.js';
import { findRelease } from './releases.js';
import type { ApiDeps, Route, RouteContext } from './route.js';
import { param } from './route.js';

function lastEventId(ctx: RouteContext): string | undefined {
  const header = ctx.req.headers['last-event-id'];
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Where a release's stream starts: after `Last-Event-ID`, else after `?after=N`, else from the start. */
function startAfter(ctx: RouteContext): number {
  const text = lastEventId(ctx) ?? ctx.url.searchParams.get('after') ?? '-1';
  const value = Number(text);
  if (!Number.isInteger(value) || value < -1)
    throw new HttpError(400, 'BAD_REQUEST', `the last event id must be an integer ≥ -1, got "${text}"`);
  return value;
}

/**
 * Opens an event stream within the server's limits: at most `maxStreams` at once, and each ends
 * once the token that opened it is no longer accepted (revoked, or its role lowered).
 */
function streamOpener(deps: ApiDeps, limits: ApiLimits): (ctx: RouteContext) => SseStream {
  let open = 0;
  return (ctx) => {
    if (open >= limits.maxStreams) {
      throw new HttpError(
        503,
        'TOO_MANY_STREAMS',
        `${limits.maxStreams} event streams are open already: try again later`,
      );
    }
    open += 1;
    const stream = new SseStream(ctx.req, ctx.res);
    stream.onClose(() => (open -= 1));
    stream.onClose(deps.metrics.streamOpened());
    let checking = false;
    const recheck = setInterval(() => {
      if (checking) return;
      checking = true;
      void ctx.authorized().then((ok) => {
        checking = false;
        if (!ok) stream.close();
      });
    }, limits.streamAuthCheckMs);
    recheck.unref();
    stream.onClose(() => clearInterval(recheck));
    return stream;
  };
}

/** An event as a stream sends it: credentials in messages or data (a connection string) masked. */
const shown = (event: ReleaseEvent | StoredEvent): unknown => redactDeep(event);

export function streamRoutes(deps: ApiDeps, limits: ApiLimits): Route[] {
  const openStream = streamOpener(deps, limits);
  return [
    {
      // Every release's events as they happen. Ids are this server's own order across releases.
      method: 'GET',
      pattern: /^\/api\/v1\/events$/,
      role: 'viewer',
      handle: (ctx) => {
        const last = lastEventId(ctx);
        const stream = openStream(ctx);
        if (last !== undefined) {
          const missed = deps.hub.since(last);
          if (missed === null) {
            stream.send({
              event: 'reset',
              data: { reason: 'the events since that id are no longer known here: reload the state' },
            });
          } else {
            for (const e of missed) stream.send({ id: e.id, event: e.event.type, data: shown(e.event) });
          }
        }
        stream.onClose(
          deps.hub.subscribe((e) => stream.send({ id: e.id, event: e.event.type, data: shown(e.event) })),
        );
        return Promise.resolve();
      },
    },
    {
      // One release's events, stored ones first, then live: `id:` is the event's sequence number.
      method: 'GET',
      pattern: /^\/api\/v1\/releases\/([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\/events\/stream$/,
      role: 'viewer',
      handle: async (ctx) => {
        const name = param(ctx, 0);
        let last = startAfter(ctx);
        await findRelease(deps, name);
        const stream = openStream(ctx);
        const emit = (event: ReleaseEvent | StoredEvent): void => {
          // Unstored notices (sequence -1) go out without an id, so a resume never skips past them.
          if (event.sequence >= 0 && event.sequence <= last) return;
          if (event.sequence >= 0) last = event.sequence;
          stream.send({
            ...(event.sequence >= 0 ? { id: String(event.sequence) } : {}),
            event: event.type,
            data: shown(event),
          });
        };
        // Subscribe before reading the store, so that nothing falls between the two.
        const early: ReleaseEvent[] = [];
        let replaying = true;
        stream.onClose(
          deps.hub.subscribe(({ event }) => {
            if (event.release !== name) return;
            if (replaying) early.push(event);
            else emit(event);
          }),
        );
        for (const event of await deps.plane.store.releaseEvents(name, last)) emit(event);
        replaying = false;
        for (const event of early.splice(0)) emit(event);
      },
    },
  ];
}
