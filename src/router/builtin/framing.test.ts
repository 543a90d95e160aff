import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestObserver, RequestOutcome } from '../../metrics/observer.js';
import { BuiltinRouter } from './builtin-router.js';

/** How the router frames what it relays: bodies, heads it refuses, persistence, pipelining. */

class Observer implements RequestObserver {
  started = 0;
  ended: { status: number; outcome: RequestOutcome }[] = [];
  requestStarted(): void {
    this.started++;
  }
  requestEnded(_s: string, _r: string, _ms: number, status: number, outcome: RequestOutcome): void {
    this.ended.push({ status, outcome });
  }
}

interface Echo {
  method: string;
  url: string;
  version: string;
  headers: IncomingHttpHeaders;
  length: number;
  sha256: string;
  trailers: Record<string, string | undefined>;
}

/** Answers with what it received; a few paths answer in particular shapes. */
function echoServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/204') return void res.writeHead(204).end();
      if (url.pathname === '/304') return void res.writeHead(304, { etag: '"a"' }).end();
      if (url.pathname === '/chunked') {
        // No Content-Length: node sends these as chunks, with a trailer.
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
        for (const part of ['one ', 'two ', 'three']) res.write(part);
        res.addTrailers({ 'x-sum': '3' });
        return void res.end();
      }
      if (url.pathname === '/big') {
        const total = Number(url.searchParams.get('n'));
        const block = Buffer.alloc(64 * 1024, 0x61);
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        let sent = 0;
        const more = (): void => {
          while (sent < total) {
            const part = block.subarray(0, Math.min(block.length, total - sent));
            sent += part.length;
            if (!res.write(part)) return void res.once('drain', more);
          }
          res.end();
        };
        return more();
      }
      const body: Echo = {
        method: req.method ?? '',
        url: req.url ?? '',
        version: req.httpVersion,
        headers: req.headers,
        length,
        sha256: hash.digest('hex'),
        trailers: req.trailers,
      };
      const text = JSON.stringify(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Writes `bytes` on a new connection and collects everything until the router closes it. */
function raw(port: number, bytes: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (out += chunk));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(waitMs, () => reject(new Error(`connection still open; got: ${out}`)));
    socket.write(bytes);
  });
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: Record<string, string | undefined>;
}

function send(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string | number> },
  body?: (write: (chunk: Buffer) => Promise<void>) => Promise<void>,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          trailers: res.trailers,
        }),
      );
    });
    req.on('error', reject);
    if (body === undefined) return void req.end();
    const write = (chunk: Buffer): Promise<void> =>
      new Promise((done) => (req.write(chunk) ? done() : req.once('drain', done)));
    body(write).then(() => req.end(), reject);
  });
}

const json = (reply: Reply): Echo => JSON.parse(reply.body.toString()) as Echo;

describe('builtin router framing', () => {
  const observer = new Observer();
  let upstream: Server;
  let router: BuiltinRouter;
  let port: number;

  beforeAll(async () => {
    upstream = await echoServer();
    router = new BuiltinRouter({
      observer,
      services: [{ name: 'echo', port: 0, stable: 'v1', timeoutMs: 10_000, entrypoint: false }],
    });
    await router.start();
    port = router.address('echo').port;
    await router.setEndpoints('echo', 'v1', [
      { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port },
    ]);
  });

  afterAll(async () => {
    await router.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
    // Every request the router accepted was reported once, begun and ended.
    expect(observer.ended).toHaveLength(observer.started);
  });

  const smuggling: [string, string][] = [
    ['Content-Length and Transfer-Encoding', 'content-length: 5\r\ntransfer-encoding: chunked\r\n'],
    ['differing Content-Lengths', 'content-length: 5\r\ncontent-length: 6\r\n'],
    ['a chunked coding that is not last', 'transfer-encoding: chunked, gzip\r\n'],
    ['a NUL in a field', 'x-a: a\u0000b\r\n'],
    ['a bare LF ending a field', 'x-a: b\nx-b: c\r\n'],
    ['obs-fold', 'x-a: b\r\n  c\r\n'],
    ['a space before the colon', 'content-length : 5\r\n'],
  ];
  it.each(smuggling)('answers %s with 400 and closes, sending nothing upstream', async (_name, fields) => {
    const before = observer.started;
    const out = await raw(port, `POST / HTTP/1.1\r\nhost: x\r\n${fields}\r\nhello`);
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(out).toMatch(/\r\nconnection: close\r\n/);
    expect(observer.started).toBe(before);
  });

  it('answers a head over 64 KB with 431, and HTTP/2 with 505', async () => {
    expect(await raw(port, `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(70_000)}\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 431 /,
    );
    expect(await raw(port, 'GET / HTTP/2.0\r\nhost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 505 /);
  });

  it('refuses upgrades and CONNECT with 501', async () => {
    const ws = 'GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n';
    expect(await raw(port, ws)).toMatch(/^HTTP\/1\.1 501 /);
    expect(await raw(port, 'CONNECT x:443 HTTP/1.1\r\nhost: x:443\r\n\r\n')).toMatch(/^HTTP\/1\.1 501 /);
  });

  it('never lets Connection remove the framing of a request', async () => {
    const out = await raw(
      port,
      'POST /c HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close, content-length, x-hop\r\nx-hop: 1\r\n\r\nhello',
    );
    const echo = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as Echo;
    expect(echo.length).toBe(5);
    expect(echo.headers['content-length']).toBe('5');
    expect(echo.headers['x-hop']).toBeUndefined();
    expect(echo.headers.connection).toBeUndefined(); // hop-by-hop: the client's stays with the client
  });

  it('forwards the sticky key and appends the client address to X-Forwarded-For', async () => {
    const fromCookie = json(await send(port, { path: '/k', headers: { cookie: 'a=1; augur-key=c9' } }));
    expect(fromCookie.headers['x-augur-key']).toBe('c9');
    expect(fromCookie.headers['x-forwarded-for']).toBe('127.0.0.1');
    const chained = json(await send(port, { path: '/k', headers: { 'x-forwarded-for': '10.1.1.1' } }));
    expect(chained.headers['x-forwarded-for']).toBe('10.1.1.1, 127.0.0.1');
    expect(chained.headers['x-augur-key']).toBe('127.0.0.1'); // no key: the client address
  });

  it('streams a chunked request body, extensions and trailers included', async () => {
    const body = '5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-check: ok\r\n\r\n';
    const out = await raw(
      port,
      `POST /up HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${body}`,
    );
    const echo = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as Echo;
    expect(echo.length).toBe(11);
    expect(echo.sha256).toBe(createHash('sha256').update('hello world').digest('hex'));
    expect(echo.trailers['x-check']).toBe('ok');
  });

  it('answers a malformed chunked request body with 400', async () => {
    const out = await raw(
      port,
      'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello!!\r\n0\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('relays a chunked response as chunks, trailer included', async () => {
    const reply = await send(port, { path: '/chunked' });
    expect(reply.headers['transfer-encoding']).toBe('chunked');
    expect(reply.body.toString()).toBe('one two three');
    expect(reply.trailers['x-sum']).toBe('3');
    expect(reply.headers['x-augur-revision']).toBe('v1');
  });

  it('streams request bodies of several MB, with a length or chunked, and a large response', async () => {
    const block = Buffer.alloc(256 * 1024, 7);
    const expected = createHash('sha256');
    for (let i = 0; i < 32; i++) expected.update(block);
    const digest = expected.digest('hex');
    const upload = async (write: (chunk: Buffer) => Promise<void>): Promise<void> => {
      for (let i = 0; i < 32; i++) await write(block);
    };
    const sized = await send(
      port,
      { method: 'POST', path: '/s', headers: { 'content-length': 8 << 20 } },
      upload,
    );
    expect(json(sized)).toMatchObject({ length: 8 << 20, sha256: digest });
    const chunked = await send(port, { method: 'PUT', path: '/c' }, upload);
    expect(json(chunked)).toMatchObject({ length: 8 << 20, sha256: digest });
    expect(json(chunked).headers['transfer-encoding']).toBe('chunked');
    const download = await send(port, { path: `/big?n=${6 << 20}` });
    expect(download.body.length).toBe(6 << 20);
  });

  it('passes Expect: 100-continue through', async () => {
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/e',
          headers: { expect: '100-continue', 'content-length': 3 },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
              trailers: {},
            }),
          );
        },
      );
      req.on('continue', () => req.end('abc'));
      req.on('error', reject);
    });
    expect(json(reply)).toMatchObject({ length: 3, method: 'POST' });
  });

  it('serves pipelined requests in order, HEAD, 204 and 304 without bodies', async () => {
    const requests = [
      'GET /a HTTP/1.1\r\nhost: x\r\n\r\n',
      'HEAD /b HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /204 HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /304 HTTP/1.1\r\nhost: x\r\n\r\n',
      '\r\nPOST /c HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi',
      'GET /d HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
    ];
    const out = await raw(port, requests.join(''));
    const heads = out.match(/HTTP\/1\.1 \d{3}/g);
    expect(heads).toEqual([
      'HTTP/1.1 200',
      'HTTP/1.1 200',
      'HTTP/1.1 204',
      'HTTP/1.1 304',
      'HTTP/1.1 200',
      'HTTP/1.1 200',
    ]);
    const urls = [...out.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
    expect(urls).toEqual(['/a', '/c', '/d']); // HEAD, 204 and 304 carried no body
    expect(out.match(/x-augur-revision: v1/g)).toHaveLength(6);
    expect(out).toMatch(/"length":2/);
  });

  it('answers HTTP/1.0 clients in kind, closing unless asked to keep alive', async () => {
    const closed = await raw(port, 'GET /old HTTP/1.0\r\n\r\n');
    expect(closed).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(closed).toMatch(/\r\nconnection: close\r\n/);
    expect(closed).toMatch(/"version":"1.0"/);
    const kept = await raw(port, 'GET /a HTTP/1.0\r\nconnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n');
    expect(kept.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(kept).toMatch(/\r\nconnection: keep-alive\r\n[^]*\r\nconnection: close\r\n/);
  });

  it('honours Connection: close from the client', async () => {
    // `raw` resolves only when the router closes the connection.
    const out = await raw(port, 'GET /x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(out).toMatch(/\r\nconnection: close\r\n/);
  });
});
