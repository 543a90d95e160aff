import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlApi } from '../api.js';
import type { AugurServer } from '../augur-server.js';
import { startAugurServer } from '../augur-server.js';
import { ServerMetrics } from '../server-metrics.js';
import { echoConfiguration } from '../test-app.js';
import { createToken, TokenAuthority } from '../tokens.js';
import { DASHBOARD_CSP, DASHBOARD_DIR } from './dashboard.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** A request through node:http, which sends whatever Host it is given. */
function get(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, agent: false, headers },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Same-origin URLs the page and its scripts load: `src`/`href` attributes and module imports. */
function references(text: string, from: string): string[] {
  const found = [...text.matchAll(/(?:src|href)="([^"]+)"/g), ...text.matchAll(/from '([^']+)'/g)].map(
    (m) => m[1] ?? '',
  );
  return found.map((ref) => new URL(ref, `http://x${from}`).pathname);
}

describe('the dashboard’s routes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'augur-dashboard-'));
  let server: AugurServer;
  let open: ControlApi;
  let openUrl = '';
  let viewer = '';
  let operator = '';

  beforeAll(async () => {
    const config = await echoConfiguration(dir);
    // As `augur server` runs it: every read needs a token.
    server = await startAugurServer({
      app: config.application,
      releases: config.releases,
      openReads: false,
      portOverride: () => 0,
    });
    viewer = (await createToken(server.plane.store, 'viewer', 'reader', Date.now())).token;
    operator = (await createToken(server.plane.store, 'operator', 'ops', Date.now())).token;
    // As `augur up` serves it: reads open on loopback.
    open = new ControlApi({
      plane: server.plane,
      controller: null,
      hub: server.hub,
      metrics: new ServerMetrics(Date.now()),
      policy: { application: config.application, releases: [] },
      auth: new TokenAuthority(server.plane.store, () => null),
      openReads: true,
    });
    openUrl = await open.listen(0);
  });

  afterAll(async () => {
    await open.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page without a token, under a strict Content-Security-Policy', async () => {
    const page = await get(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ]) {
      expect(DASHBOARD_CSP).toContain(directive);
    }
    expect(DASHBOARD_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['etag']).toMatch(/^"[\w-]{22}"$/);
    expect(page.headers['content-length']).toBe(String(Buffer.byteLength(page.text)));
    // No inline script, nothing from another origin.
    for (const script of page.text.match(/<script\b[^>]*>/g) ?? []) expect(script).toMatch(/\ssrc="\//);
    expect(page.text).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|https?:\/\//i);
    // An invalid token is not even looked at.
    expect((await get(server.url, '/', { authorization: 'Bearer augur_nope' })).status).toBe(200);
  });

  it('serves every file the page loads, with its type and the same headers', async () => {
    const pending = references((await get(server.url, '/')).text, '/');
    const seen = new Set<string>();
    while (pending.length > 0) {
      const path = pending.pop() ?? '';
      if (seen.has(path)) continue;
      seen.add(path);
      const asset = await get(server.url, path);
      expect(asset.status, path).toBe(200);
      expect(asset.headers['content-security-policy'], path).toBe(DASHBOARD_CSP);
      expect(asset.headers['x-content-type-options'], path).toBe('nosniff');
      expect(asset.headers['cache-control'], path).toBe('no-cache');
      const type = asset.headers['content-type'] ?? '';
      if (path.endsWith('.js')) {
        expect(type, path).toBe('text/javascript; charset=utf-8');
        pending.push(...references(asset.text, path));
      } else if (path.endsWith('.css')) {
        expect(type, path).toBe('text/css; charset=utf-8');
        expect(asset.text, path).not.toMatch(/@import|url\(\s*['"]?(?:https?:)?\/\//i);
      } else {
        expect(type, path).toBe('image/svg+xml');
      }
    }
    // Every file of the folder is one the page uses: nothing ships unserved, nothing is served unused.
    const shipped = readdirSync(DASHBOARD_DIR)
      .filter((name) => name !== 'index.html')
      .map((name) => `/dashboard/${name}`);
    expect([...seen].sort()).toEqual(shipped.sort());
  });

  it('answers 304 to a copy that is still current', async () => {
    const first = await get(server.url, '/dashboard/app.js');
    const etag = String(first.headers['etag']);
    const again = await get(server.url, '/dashboard/app.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers['etag']).toBe(etag);
    expect(again.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect((await get(server.url, '/dashboard/app.js', { 'if-none-match': '"stale"' })).status).toBe(200);
  });

  it('serves nothing else: other paths are 404, other methods 405', async () => {
    for (const path of [
      '/index.html',
      '/dashboard/',
      '/dashboard/index.html',
      '/dashboard/nope.js',
      '/dashboard/app.js.map',
      '/dashboard/../package.json',
      '/dashboard/%2e%2e%2fpackage.json',
      '/dashboard/sub/app.js',
      '/favicon.ico',
      '/app.js',
    ]) {
      const answer = await get(server.url, path);
      expect(answer.status, path).toBe(404);
      expect(JSON.parse(answer.text)).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect((await get(server.url, '/', {}, 'POST')).status).toBe(405);
    expect((await get(server.url, '/dashboard/app.js', {}, 'PUT')).status).toBe(405);
  });

  it('keeps every data route guarded as before', async () => {
    for (const path of [
      '/api/v1/whoami',
      '/api/v1/applications',
      '/api/v1/releases',
      '/api/v1/status',
      '/api/v1/events',
      '/metrics',
    ]) {
      const answer = await get(server.url, path);
      expect(answer.status, path).toBe(401);
      expect(answer.headers['www-authenticate'], path).toMatch(/^Bearer/);
    }
    const bad = await get(server.url, '/api/v1/whoami', { authorization: 'Bearer augur_nope' });
    expect(bad.status).toBe(401);
  });

  it('tells the page who its token is', async () => {
    const asViewer = await get(server.url, '/api/v1/whoami', { authorization: `Bearer ${viewer}` });
    expect(JSON.parse(asViewer.text)).toEqual({ name: 'reader', role: 'viewer' });
    const asOperator = await get(server.url, '/api/v1/whoami', { authorization: `Bearer ${operator}` });
    expect(JSON.parse(asOperator.text)).toEqual({ name: 'ops', role: 'operator' });
    // Where reads are open, the page reads as an anonymous viewer; a mutation still needs a token.
    const anonymous = await get(openUrl, '/api/v1/whoami');
    expect(JSON.parse(anonymous.text)).toEqual({ name: 'anonymous', role: 'viewer' });
    expect((await get(openUrl, '/')).status).toBe(200);
    const action = await get(openUrl, '/api/v1/releases/x/actions', {}, 'POST');
    expect(action.status).toBe(401);
  });

  it('answers only requests addressed to loopback, the page included', async () => {
    for (const path of ['/', '/dashboard/app.js']) {
      const answer = await get(server.url, path, { host: 'evil.example' });
      expect(answer.status, path).toBe(421);
      expect(answer.headers['content-security-policy']).toBeUndefined();
    }
  });

  it('ships browser code that builds its DOM from text only', () => {
    for (const name of readdirSync(DASHBOARD_DIR).filter((n) => n.endsWith('.js'))) {
      const code = readFileSync(join(DASHBOARD_DIR, name), 'utf8');
      expect(code, name).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
      );
    }
  });
});
