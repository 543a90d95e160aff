import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestObserver, RequestOutcome } from '../../metrics/observer.js';
import { BuiltinRouter } from './builtin-router.js';

interface Ended {
  service: string;
  revision: string;
  status: number;
  outcome: RequestOutcome;
}

class RecordingObserver implements RequestObserver {
  started = 0;
  ended: Ended[] = [];
  requestStarted(): void {
    this.started++;
  }
  requestEnded(
    service: string,
    revision: string,
    _latencyMs: number,
    status: number,
    outcome: RequestOutcome,
  ): void {
    this.ended.push({ service, revision, status, outcome });
  }
}

function upstream(name: string, behaviour: 'ok' | 'hang' | 'fail' = 'ok'): Promise<Server> {
  const server = createServer((req, res) => {
    if (behaviour === 'hang') return;
    res.writeHead(behaviour === 'fail' ? 500 : 200, { 'content-type': 'text/plain', 'x-upstream': name });
    res.end(`${name} ${String(req.headers['x-augur-key'])}`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (s: Server): number => (s.address() as AddressInfo).port;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends one request per key, `concurrency` at a time; returns the revision each key got. */
async function sweep(port: number, keys: readonly string[], concurrency = 64): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      const reply = await get(port, { 'x-augur-key': key });
      seen.set(key, String(reply.headers['x-augur-revision']));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return seen;
}

describe('builtin router', () => {
  const observer = new RecordingObserver();
  const servers: Server[] = [];
  let router: BuiltinRouter;
  let port: number;

  beforeAll(async () => {
    const [v1a, v1b, v2, hang, fail] = await Promise.all([
      upstream('v1a'),
      upstream('v1b'),
      upstream('v2'),
      upstream('hang', 'hang'),
      upstream('fail', 'fail'),
    ]);
    servers.push(v1a, v1b, v2, hang, fail);
    router = new BuiltinRouter({
      observer,
      services: [
        { name: 'cart', port: 0, stable: 'v1', timeoutMs: 300, entrypoint: true },
        { name: 'slow', port: 0, stable: 'v1', timeoutMs: 200, entrypoint: false },
      ],
    });
    await router.start();
    port = router.address('cart').port;
    await router.setEndpoints('cart', 'v1', [
      { host: '127.0.0.1', port: portOf(v1a) },
      { host: '127.0.0.1', port: portOf(v1b) },
    ]);
    await router.setEndpoints('cart', 'v2', [{ host: '127.0.0.1', port: portOf(v2) }]);
    await router.setEndpoints('cart', 'bad', [{ host: '127.0.0.1', port: portOf(fail) }]);
    await router.setEndpoints('slow', 'v1', [{ host: '127.0.0.1', port: portOf(hang) }]);
  });

  afterAll(async () => {
    await router.close();
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('splits 0.1%, 1% and 50% within binomial bounds over 20,000 keys, sticky as the weight grows', async () => {
    const n = 20_000;
    const keys = Array.from({ length: n }, (_, i) => `user-${i}`);
    let previousCanary = new Set<string>();
    for (const weight of [10, 100, 5000]) {
      await router.setSplit({ service: 'cart', stable: 'v1', canary: 'v2', canaryWeight: weight });
      const seen = await sweep(port, keys);
      const canary = new Set([...seen].filter(([, rev]) => rev === 'v2').map(([k]) => k));
      const p = weight / 10_000;
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(canary.size - n * p)).toBeLessThan(4.5 * sd);
      for (const key of previousCanary) expect(canary.has(key)).toBe(true);
      previousCanary = canary;
    }
    // The same key always lands on the same revision at a fixed weight.
    const again = await sweep(port, keys.slice(0, 2000));
    for (const [key, rev] of again) expect(rev).toBe(previousCanary.has(key) ? 'v2' : 'v1');
  }, 120_000);

  it('balances a revision across its replicas and labels the response', async () => {
    await router.setSplit({ service: 'cart', stable: 'v1', canary: null, canaryWeight: 0 });
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const reply = await get(port, { 'x-augur-key': 'same' });
      expect(reply.headers['x-augur-revision']).toBe('v1');
      const up = String(reply.headers['x-upstream']);
      counts.set(up, (counts.get(up) ?? 0) + 1);
    }
    expect(counts.get('v1a')).toBe(20);
    expect(counts.get('v1b')).toBe(20);
  });

  it('mints a sticky cookie at the entrypoint and honours it', async () => {
    const first = await get(port);
    const cookie = String(first.headers['set-cookie']).split(';')[0] as string;
    expect(cookie).toMatch(/^augur-key=.+/);
    const second = await get(port, { cookie: `a=b; ${cookie}` });
    expect(second.headers['set-cookie']).toBeUndefined();
    expect(second.body.split(' ')[1]).toBe(cookie.slice('augur-key='.length));
  });

  it('counts upstream 5xx and unreachable instances against the revision', async () => {
    await router.setSplit({ service: 'cart', stable: 'v1', canary: 'bad', canaryWeight: 10_000 });
    observer.ended = [];
    expect((await get(port, { 'x-augur-key': 'k' })).status).toBe(500);
    await router.setEndpoints('cart', 'bad', []);
    const reply = await get(port, { 'x-augur-key': 'k' });
    expect(reply.status).toBe(502);
    expect(reply.headers['x-augur-revision']).toBe('bad');
    expect(observer.ended).toEqual([
      { service: 'cart', revision: 'bad', status: 500, outcome: 'error' },
      { service: 'cart', revision: 'bad', status: 502, outcome: 'error' },
    ]);
    await router.setSplit({ service: 'cart', stable: 'v1', canary: null, canaryWeight: 0 });
  });

  it('answers 504 after the service timeout and records a timeout', async () => {
    observer.ended = [];
    const t0 = Date.now();
    const reply = await get(router.address('slow').port);
    expect(reply.status).toBe(504);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(observer.ended).toEqual([{ service: 'slow', revision: 'v1', status: 504, outcome: 'timeout' }]);
    expect(observer.started).toBeGreaterThan(0);
  });

  it('rejects invalid splits', async () => {
    await expect(
      router.setSplit({ service: 'cart', stable: 'v1', canary: 'v2', canaryWeight: 10_001 }),
    ).rejects.toThrow(/basis points/);
    await expect(
      router.setSplit({ service: 'cart', stable: 'v1', canary: null, canaryWeight: 5 }),
    ).rejects.toThrow();
  });
});
