import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestObserver, RequestOutcome } from '../../metrics/observer.js';
import { BuiltinRouter } from './builtin-router.js';

/** What the router does when upstreams misbehave, and when clients leave early. */

class Observer implements RequestObserver {
  started = 0;
  endedInAll = 0;
  ended: { status: number; outcome: RequestOutcome }[] = [];
  requestStarted(): void {
    this.started++;
  }
  requestEnded(_s: string, _r: string, _ms: number, status: number, outcome: RequestOutcome): void {
    this.endedInAll++;
    this.ended.push({ status, outcome });
  }
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

/**
 * An upstream on raw sockets, its behaviour chosen by the request path. Requests carry no body
 * other than a Content-Length one, which it skips.
 */
function rawUpstream(): Promise<{ server: Server; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    connections++;
    let served = 0;
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\r\n\r\n'); end !== -1; end = buffer.indexOf('\r\n\r\n')) {
        const head = buffer.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        buffer = buffer.slice(end + 4 + length);
        served++;
        const path = head.split(' ')[1];
        switch (path) {
          case '/closer': // serves one request per connection, then drops it under the next
            if (served > 1) return void socket.destroy();
            socket.write(OK);
            break;
          case '/fin': // answers as if keeping the connection, then closes it
            socket.end(OK);
            return;
          case '/mid-reset':
            socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n${'x'.repeat(10)}`);
            setTimeout(() => socket.destroy(), 20);
            return;
          case '/stall-body':
            socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n${'x'.repeat(10)}`);
            return;
          case '/until-close': // no length, no chunks: the body ends with the connection
            socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nsent until');
            setTimeout(() => socket.end(' the close'), 20);
            return;
          case '/both':
            socket.write(
              'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
            );
            break;
          case '/hang':
            return;
          default:
            socket.write(OK);
        }
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, connections: () => connections })),
  );
}

function get(
  port: number,
  path: string,
  method = 'GET',
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-length': Buffer.byteLength(body) };
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Everything the router sends on one connection until it closes it. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (out += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(out));
    socket.write(text);
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
}

describe('builtin router with faulty upstreams', () => {
  const observer = new Observer();
  let upstream: Awaited<ReturnType<typeof rawUpstream>>;
  let router: BuiltinRouter;
  let port: number;

  beforeAll(async () => {
    upstream = await rawUpstream();
    router = new BuiltinRouter({
      observer,
      services: [{ name: 'faults', port: 0, stable: 'v1', timeoutMs: 300, entrypoint: false }],
    });
    await router.start();
    port = router.address('faults').port;
    await router.setEndpoints('faults', 'v1', [
      { host: '127.0.0.1', port: (upstream.server.address() as AddressInfo).port },
    ]);
  });

  afterAll(async () => {
    await router.close();
    await new Promise((r) => upstream.server.close(r));
    // Every request the router accepted was reported once, begun and ended.
    expect(observer.endedInAll).toBe(observer.started);
  });

  it('repeats a GET once on a fresh connection when a pooled one drops it unanswered', async () => {
    expect((await get(port, '/closer')).status).toBe(200);
    const before = upstream.connections();
    observer.ended = [];
    expect(await get(port, '/closer')).toEqual({ status: 200, body: 'ok' });
    expect(upstream.connections()).toBe(before + 1);
    expect(observer.ended).toEqual([{ status: 200, outcome: 'ok' }]);
  });

  it('answers 502 rather than repeat a request that is not idempotent', async () => {
    expect((await get(port, '/closer')).status).toBe(200); // leaves a connection in the pool
    observer.ended = [];
    const reply = await get(port, '/closer', 'POST', 'abc');
    expect(reply.status).toBe(502);
    expect(observer.ended).toEqual([{ status: 502, outcome: 'reset' }]);
  });

  it('does not reuse a connection the upstream closed while it was idle', async () => {
    expect((await get(port, '/fin')).status).toBe(200);
    await sleep(30);
    const before = upstream.connections();
    expect((await get(port, '/fin')).status).toBe(200);
    expect(upstream.connections()).toBe(before + 1);
  });

  it('relays a body delimited by the upstream closing, then closes the client connection', async () => {
    observer.ended = [];
    const out = await raw(port, 'GET /until-close HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n\r\nsent until the close$/);
    expect(observer.ended).toEqual([{ status: 200, outcome: 'ok' }]);
  });

  it('cuts the client off when the upstream resets mid-body, counted as a reset', async () => {
    observer.ended = [];
    const out = await raw(port, 'GET /mid-reset HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nx{10}$/);
    expect(observer.ended).toEqual([{ status: 502, outcome: 'reset' }]);
  });

  it('cuts the client off when the body stalls past the timeout, counted as a timeout', async () => {
    observer.ended = [];
    const t0 = Date.now();
    const out = await raw(port, 'GET /stall-body HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(observer.ended).toEqual([{ status: 504, outcome: 'timeout' }]);
  });

  it('answers 502 to a response with both Content-Length and Transfer-Encoding', async () => {
    observer.ended = [];
    const out = await raw(port, 'GET /both HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[^]*x-augur-revision: v1\r\n/);
    expect(observer.ended).toEqual([{ status: 502, outcome: 'error' }]);
  });

  it('records a client that leaves before its answer as 499', async () => {
    observer.ended = [];
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    socket.write('GET /hang HTTP/1.1\r\nhost: x\r\n\r\n');
    await sleep(50);
    socket.destroy();
    await until(() => observer.ended.length > 0);
    expect(observer.ended).toEqual([{ status: 499, outcome: 'ok' }]);
  });

  it('answers 502 when the upstream refuses connections, counted as an error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await router.setEndpoints('faults', 'v2', [{ host: '127.0.0.1', port: deadPort }]);
    await router.setSplit({ service: 'faults', stable: 'v1', canary: 'v2', canaryWeight: 10_000 });
    observer.ended = [];
    const reply = await get(port, '/');
    expect(reply.status).toBe(502);
    expect(reply.body).toMatch(/ECONNREFUSED/);
    expect(observer.ended).toEqual([{ status: 502, outcome: 'error' }]);
    await router.setSplit({ service: 'faults', stable: 'v1', canary: null, canaryWeight: 0 });
  });

  it('ends the requests in flight as 499 when it closes', async () => {
    const local = new Observer();
    const closing = new BuiltinRouter({
      observer: local,
      services: [{ name: 'c', port: 0, stable: 'v1', timeoutMs: 5_000, entrypoint: false }],
    });
    await closing.start();
    await closing.setEndpoints('c', 'v1', [
      { host: '127.0.0.1', port: (upstream.server.address() as AddressInfo).port },
    ]);
    const pending = raw(closing.address('c').port, 'GET /hang HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => local.started === 1);
    await closing.close();
    await pending;
    expect(local.ended).toEqual([{ status: 499, outcome: 'ok' }]);
  });
});
