import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/random.js';
import type { RequestObserver } from '../../metrics/observer.js';
import { BuiltinRouter } from './builtin-router.js';
import { redactQuery } from './credentials.js';
import { RequestSampler } from './request-sampler.js';
import { REQUEST_FIELDS } from './rewrite.js';
import type { RequestHead } from './wire/request-head.js';
import { parseRequestHead } from './wire/request-head.js';

function head(lines: readonly string[]): RequestHead {
  const parsed = parseRequestHead(lines.join('\r\n'), REQUEST_FIELDS);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.head;
}

const EMPTY = Buffer.alloc(0);

describe('RequestSampler', () => {
  it('keeps allow-listed headers only, never a credential, and redacts credential query values', () => {
    const sampler = new RequestSampler({
      // Even when asked to, it never keeps a header whose name looks like a credential.
      headers: ['content-type', 'accept', 'authorization', 'x-api-token', 'cookie', 'x-augur-key'],
      clock: { now: () => 42 },
    });
    sampler.offer(
      head([
        'GET /cart/checkout?token=abc&q=shoes&API_KEY=k1 HTTP/1.1',
        'Host: shop',
        'Accept: application/json',
        'Accept: text/plain',
        'Authorization: Bearer secret',
        'Proxy-Authorization: Basic eA==',
        'Cookie: augur-key=alice; session=s',
        'X-Augur-Key: alice',
        'X-Api-Token: t',
        'X-Client-Secret: s',
        'User-Agent: test',
      ]),
      EMPTY,
      0,
      0,
    );
    expect(sampler.peek()).toEqual([
      {
        method: 'GET',
        path: '/cart/checkout?token=redacted&q=shoes&API_KEY=redacted',
        headers: { accept: 'application/json, text/plain' },
        body: null,
        recordedAt: 42,
      },
    ]);
    expect(JSON.stringify(sampler.peek())).not.toMatch(/secret|alice|Bearer|eA==|abc|k1/);
  });

  it('redacts percent-encoded names and leaves other targets alone', () => {
    expect(redactQuery('/a?acc%65ss_token=x')).toBe('/a?acc%65ss_token=redacted');
    expect(redactQuery('/a?%74oken=x&q=1')).toBe('/a?%74oken=redacted&q=1');
    expect(redactQuery('/s3/obj?X-Amz-Signature=abc&sig=d&signal=1')).toBe(
      '/s3/obj?X-Amz-Signature=redacted&sig=redacted&signal=1',
    );
    expect(redactQuery('/a?x=1&y')).toBe('/a?x=1&y');
    expect(redactQuery('/a')).toBe('/a');
  });

  it('records small bodies that came with the head, and skips larger, chunked or partial ones', () => {
    const sampler = new RequestSampler({ maxBodyBytes: 16 });
    const body = Buffer.from('xx{"a":1}');
    const post = (length: number): RequestHead =>
      head(['POST /p HTTP/1.1', 'Host: h', 'Content-Type: application/json', `Content-Length: ${length}`]);
    sampler.offer(post(7), body, 2, 7);
    sampler.offer(post(17), Buffer.alloc(20), 0, 17);
    sampler.offer(post(7), body, 2, 3);
    sampler.offer(head(['POST /c HTTP/1.1', 'Host: h', 'Transfer-Encoding: chunked']), EMPTY, 0, 0);
    const kept = sampler.take();
    expect(kept).toHaveLength(1);
    expect(kept[0]?.headers).toEqual({ 'content-type': 'application/json' });
    expect(Buffer.from(kept[0]?.body ?? []).toString()).toBe('{"a":1}');
    // The copy does not alias the read buffer.
    body.fill(0);
    expect(Buffer.from(kept[0]?.body ?? []).toString()).toBe('{"a":1}');
  });

  it('redacts credential-like fields of form and JSON bodies, and keeps no other body naming one', () => {
    const sampler = new RequestSampler();
    const post = (type: string | null, body: string): void => {
      const bytes = Buffer.from(body);
      const lines = ['POST /login HTTP/1.1', 'Host: h', `Content-Length: ${bytes.length}`];
      if (type !== null) lines.push(`Content-Type: ${type}`);
      sampler.offer(head(lines), bytes, 0, bytes.length);
    };
    post('application/x-www-form-urlencoded', 'user=ann&password=hunter2&remember=1&csrf%5Ftoken=t1');
    post(
      'application/json; charset=utf-8',
      JSON.stringify({
        user: 'ann',
        password: 'hunter2',
        profile: { apiKey: 'k1', pwd: 'p1', sig: 's1', signal: 'kept', Credentials: ['c1'] },
        items: [{ sku: 'a', session_id: 'x1' }],
      }),
    );
    post('application/vnd.api+json', '{"data":{"auth":"a1","n":1}}');
    post('application/json', '{"\\u0074oken":"e1"}');
    post('application/x-www-form-urlencoded', '%70assword=f1&q=%25');
    post('application/json', '{"broken": "passwd=hunter2"');
    post('text/plain', 'token: hunter2');
    post(
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="secret"\r\n\r\ns1\r\n--x--',
    );
    post(null, 'password=hunter2');
    post('application/json', '{"query":"shoes","page":2}');
    const kept = sampler.take().map((r) => Buffer.from(r.body ?? []).toString());
    expect(kept).toEqual([
      'user=ann&password=redacted&remember=1&csrf%5Ftoken=redacted',
      JSON.stringify({
        user: 'ann',
        password: 'redacted',
        profile: {
          apiKey: 'redacted',
          pwd: 'redacted',
          sig: 'redacted',
          signal: 'kept',
          Credentials: 'redacted',
        },
        items: [{ sku: 'a', session_id: 'redacted' }],
      }),
      '{"data":{"auth":"redacted","n":1}}',
      '{"token":"redacted"}',
      '%70assword=redacted&q=%25',
      '{"query":"shoes","page":2}',
    ]);
    expect(kept.join('\n')).not.toMatch(/hunter2|k1|p1|s1|c1|x1|a1|t1|e1|f1/);
  });

  it('is bounded, uniform, and reads only a small fraction of the requests', () => {
    let captures = 0;
    const sampler = new RequestSampler({
      size: 500,
      random: new SeededRandom(7),
      clock: { now: () => captures++ },
    });
    const n = 20_000;
    for (let i = 0; i < n; i++) sampler.offer(head([`GET /item/${i} HTTP/1.1`, 'Host: h']), EMPTY, 0, 0);
    const kept = sampler.peek().map((r) => Number(r.path.slice('/item/'.length)));
    expect(kept).toHaveLength(500);
    expect(new Set(kept).size).toBe(500);
    // Uniform over the whole stream: the mean index is near the middle, both halves are represented.
    const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
    expect(mean).toBeGreaterThan(n * 0.45);
    expect(mean).toBeLessThan(n * 0.55);
    const firstHalf = kept.filter((i) => i < n / 2).length / kept.length;
    expect(firstHalf).toBeGreaterThan(0.42);
    expect(firstHalf).toBeLessThan(0.58);
    // Algorithm L reads about k(1 + ln(n/k)) ≈ 2,300 requests of 20,000.
    expect(captures).toBeLessThan(n * 0.2);
    expect(sampler.take()).toHaveLength(500);
    expect(sampler.peek()).toHaveLength(0);
    sampler.offer(head(['GET /again HTTP/1.1', 'Host: h']), EMPTY, 0, 0);
    expect(sampler.peek().map((r) => r.path)).toEqual(['/again']);
  });
});

describe('BuiltinRouter request samples', () => {
  const observer: RequestObserver = { requestStarted: () => undefined, requestEnded: () => undefined };

  it('records what passes through, per service, without credentials', async () => {
    const upstream: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const router = new BuiltinRouter({
      observer,
      services: [{ name: 'cart', port: 0, stable: 'v1', timeoutMs: 1000, entrypoint: false }],
    });
    await router.start();
    try {
      await router.setEndpoints('cart', 'v1', [
        { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port },
      ]);
      const port = router.address('cart').port;
      const body = JSON.stringify({ items: [{ sku: 'a', priceCents: 5, quantity: 1 }] });
      await new Promise<void>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/cart/checkout',
            headers: {
              'content-type': 'application/json',
              authorization: 'Bearer s3cr3t',
              cookie: 'augur-key=bob',
              'x-augur-key': 'bob',
            },
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(router.samples('cart')).toHaveLength(1);
      const taken = router.takeSamples().get('cart') ?? [];
      expect(taken.map((r) => [r.method, r.path, r.headers])).toEqual([
        ['POST', '/cart/checkout', { 'content-type': 'application/json' }],
      ]);
      expect(Buffer.from(taken[0]?.body ?? []).toString()).toBe(body);
      expect(router.takeSamples().size).toBe(0);
    } finally {
      await router.close();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });

  it('records nothing when sampling is off', async () => {
    const router = new BuiltinRouter({
      observer,
      sampling: false,
      services: [{ name: 'cart', port: 0, stable: 'v1', timeoutMs: 1000, entrypoint: false }],
    });
    expect(router.samples('cart')).toEqual([]);
    expect(router.takeSamples().size).toBe(0);
    await router.close();
  });
});
