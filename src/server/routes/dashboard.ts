import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError, reply } from '../http.js';
import type { Route, RouteContext } from './route.js';
import { param } from './route.js';

/**
 * The dashboard's files, shipped with the package beside `dist/` and `src/` (the same depth from
 * either), so the page served is the one in the installed package, whatever the working directory.
 */
export const DASHBOARD_DIR = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'),
  'dashboard',
);

/** Every file the dashboard has, by name, and its content type: nothing else is ever read. */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'render.js': 'text/javascript; charset=utf-8',
  'sse.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * Only this origin's scripts, styles, images and connections; no inline script or style, no
 * plugins, no framing, no form posts, and (where the browser knows Trusted Types) no HTML parsed
 * from strings: the page builds its DOM from text nodes only.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** Reads the files once, at the first request: they do not change while the server runs. */
function assetLoader(dir: string): () => Promise<ReadonlyMap<string, Asset>> {
  let loading: Promise<ReadonlyMap<string, Asset>> | null = null;
  const load = async (): Promise<ReadonlyMap<string, Asset>> => {
    const assets = new Map<string, Asset>();
    for (const [name, type] of Object.entries(FILES)) {
      const body = await readFile(join(dir, name));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      assets.set(name, { body, type, etag });
    }
    return assets;
  };
  return () => {
    // A failed read (a package without its dashboard) is tried again at the next request.
    loading ??= load().catch((error: unknown) => {
      loading = null;
      throw error;
    });
    return loading;
  };
}

function send(ctx: RouteContext, asset: Asset): void {
  const headers: Record<string, string | number> = {
    'content-type': asset.type,
    // Revalidated at every load (a cheap 304): an upgraded server never runs yesterday's script.
    'cache-control': 'no-cache',
    etag: asset.etag,
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
  const res: ServerResponse = ctx.res;
  if (ctx.req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': asset.body.length });
  res.end(asset.body);
}

/**
 * The dashboard: a static page and its files, served without a token since they hold no data
 * (the page asks for a token when the API needs one), and `whoami`, which the page asks first.
 */
export function dashboardRoutes(dir = DASHBOARD_DIR): Route[] {
  const assets = assetLoader(dir);
  const serve = async (ctx: RouteContext, name: string): Promise<void> => {
    const asset = FILES[name] === undefined || name === 'index.html' ? undefined : (await assets()).get(name);
    if (asset === undefined) throw new HttpError(404, 'NOT_FOUND', `no route ${ctx.url.pathname}`);
    send(ctx, asset);
  };
  return [
    {
      method: 'GET',
      pattern: /^\/$/,
      role: 'none',
      handle: async (ctx) => {
        const page = (await assets()).get('index.html');
        if (page === undefined) throw new Error('the dashboard has no index.html');
        send(ctx, page);
      },
    },
    {
      method: 'GET',
      pattern: /^\/dashboard\/([a-z0-9-]+\.[a-z]+)$/,
      role: 'none',
      handle: (ctx) => serve(ctx, param(ctx, 0)),
    },
    {
      // Who the presented token is (anonymous where reads are open): the page shows it, and offers
      // the release actions only to an operator.
      method: 'GET',
      pattern: /^\/api\/v1\/whoami$/,
      role: 'viewer',
      handle: ({ res, principal }) => {
        reply(res, 200, { name: principal.name, role: principal.role });
        return Promise.resolve();
      },
    },
  ];
}
