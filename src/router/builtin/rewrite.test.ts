import { describe, expect, it } from 'vitest';
import {
  clientResponseHead,
  interimHead,
  REQUEST_FIELDS,
  RESPONSE_FIELDS,
  routerResponse,
  upstreamRequestHead,
} from './rewrite.js';
import type { RequestHead } from './wire/request-head.js';
import { parseRequestHead } from './wire/request-head.js';
import type { ResponseHead } from './wire/response-head.js';
import { parseResponseHead } from './wire/response-head.js';

function requestHead(...lines: string[]): RequestHead {
  const result = parseRequestHead(lines.join('\r\n'), REQUEST_FIELDS);
  if (!result.ok) throw new Error(result.message);
  return result.head;
}

function responseHead(method: string, ...lines: string[]): ResponseHead {
  const result = parseResponseHead(lines.join('\r\n'), method, RESPONSE_FIELDS);
  if (!result.ok) throw new Error(result.message);
  return result.head;
}

const options = { revision: 'v2', cookie: null, close: false, http10: false };

describe('head rewriting', () => {
  it('forwards a request as received, adding only X-Forwarded-For, when it carries its key', () => {
    const head = requestHead('GET /a?b HTTP/1.1', 'Host: shop', 'X-Augur-Key: u1', 'Accept: */*');
    expect(upstreamRequestHead(head, 'u1', '10.0.0.1')).toBe(
      'GET /a?b HTTP/1.1\r\nHost: shop\r\nX-Augur-Key: u1\r\nAccept: */*\r\nx-forwarded-for: 10.0.0.1\r\n\r\n',
    );
  });

  it('drops hop-by-hop fields and those Connection names, sets the key, appends the address', () => {
    const head = requestHead(
      'POST /p HTTP/1.1',
      'connection: keep-alive, X-Trace',
      'host: shop',
      'keep-alive: timeout=5',
      'x-trace: 1',
      'x-forwarded-for: 1.2.3.4',
      'te: trailers',
      'cookie: augur-key=c1',
      'content-length: 3',
    );
    expect(upstreamRequestHead(head, 'c1', '10.0.0.1')).toBe(
      'POST /p HTTP/1.1\r\nhost: shop\r\ncookie: augur-key=c1\r\ncontent-length: 3\r\n' +
        'x-augur-key: c1\r\nx-forwarded-for: 1.2.3.4, 10.0.0.1\r\n\r\n',
    );
  });

  it('makes equal Content-Lengths one, and replaces a key that is not the one in use', () => {
    const head = requestHead(
      'PUT /p HTTP/1.1',
      'host: a',
      'content-length: 2',
      'x-augur-key: ',
      'content-length: 2',
    );
    expect(upstreamRequestHead(head, 'minted', '::1')).toBe(
      'PUT /p HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\nx-augur-key: minted\r\nx-forwarded-for: ::1\r\n\r\n',
    );
  });

  it('keeps an HTTP/1.0 request HTTP/1.0 and asks the upstream to keep the connection', () => {
    expect(upstreamRequestHead(requestHead('GET / HTTP/1.0'), 'k', '::1')).toBe(
      'GET / HTTP/1.0\r\nx-augur-key: k\r\nconnection: keep-alive\r\nx-forwarded-for: ::1\r\n\r\n',
    );
  });

  it('labels a response with its revision and drops hop-by-hop fields, keeping the rest in order', () => {
    const head = responseHead(
      'GET',
      'HTTP/1.1 200 OK',
      'Content-Type: text/plain',
      'Content-Length: 20',
      'X-Augur-Revision: spoofed',
      'Connection: keep-alive',
      'Keep-Alive: timeout=5',
    );
    expect(clientResponseHead(head, options)).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n' +
        'x-augur-revision: v2\r\nkeep-alive: timeout=65\r\n\r\n',
    );
  });

  it('sets a minted cookie after the upstream own, and announces a close', () => {
    const head = responseHead('GET', 'HTTP/1.1 204 No Content', 'set-cookie: a=b');
    expect(clientResponseHead(head, { ...options, cookie: 'augur-key=k; Path=/', close: true })).toBe(
      'HTTP/1.1 204 No Content\r\nset-cookie: a=b\r\nx-augur-revision: v2\r\n' +
        'set-cookie: augur-key=k; Path=/\r\nconnection: close\r\n\r\n',
    );
  });

  it('answers in HTTP/1.1 whatever the upstream spoke, announcing persistence to HTTP/1.0 clients', () => {
    const head = responseHead('GET', 'HTTP/1.0 200 OK', 'content-length: 1', 'connection: keep-alive');
    expect(clientResponseHead(head, { ...options, http10: true })).toBe(
      'HTTP/1.1 200 OK\r\ncontent-length: 1\r\nx-augur-revision: v2\r\n' +
        'connection: keep-alive\r\nkeep-alive: timeout=65\r\n\r\n',
    );
  });

  it('relays interim responses without labelling them', () => {
    expect(interimHead(responseHead('POST', 'HTTP/1.1 100 Continue'))).toBe('HTTP/1.1 100 Continue\r\n\r\n');
  });

  it('writes its own answers with a length, and without a body after HEAD', () => {
    const answer = routerResponse(504, 'late', {
      revision: 'v1',
      close: false,
      http10: false,
      headOnly: false,
    });
    expect(answer).toBe(
      'HTTP/1.1 504 Gateway Timeout\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n' +
        'x-augur-revision: v1\r\nkeep-alive: timeout=65\r\n\r\nlate\n',
    );
    const head = routerResponse(502, 'down', { revision: null, close: true, http10: false, headOnly: true });
    expect(head.endsWith('connection: close\r\n\r\n')).toBe(true);
  });
});
