import { describe, expect, it } from 'vitest';
import type { ResponseHead } from './response-head.js';
import { parseResponseHead, responseFieldNames } from './response-head.js';

const names = responseFieldNames([]);

function parsed(method: string, ...lines: string[]): ResponseHead {
  const result = parseResponseHead(lines.join('\r\n'), method, names);
  if (!result.ok) throw new Error(result.message);
  return result.head;
}

const invalid = (...lines: string[]): boolean => !parseResponseHead(lines.join('\r\n'), 'GET', names).ok;

describe('response head', () => {
  it('reads the status line, fields, framing and persistence', () => {
    const head = parsed('GET', 'HTTP/1.1 200 OK', 'Content-Length: 20', 'Keep-Alive: timeout=5');
    expect(head).toMatchObject({ status: 200, minor: 1, keepAlive: true, idleTimeoutMs: 5000 });
    expect(head.framing).toEqual({ kind: 'length', length: 20 });
    expect(parsed('GET', 'HTTP/1.1 404 Not  Found', 'content-length: 0').status).toBe(404);
    expect(parsed('GET', 'HTTP/1.0 200', 'content-length: 0')).toMatchObject({ status: 200, minor: 0 });
  });

  it('has no body after HEAD, 1xx, 204 and 304, whatever the fields say', () => {
    expect(parsed('HEAD', 'HTTP/1.1 200 OK', 'content-length: 99').framing).toEqual({ kind: 'none' });
    expect(parsed('HEAD', 'HTTP/1.1 200 OK', 'content-length: 99').contentLength).toBe(99);
    expect(parsed('GET', 'HTTP/1.1 204 No Content').framing).toEqual({ kind: 'none' });
    expect(parsed('GET', 'HTTP/1.1 304 Not Modified', 'content-length: 10').framing).toEqual({
      kind: 'none',
    });
    expect(parsed('POST', 'HTTP/1.1 100 Continue').framing).toEqual({ kind: 'none' });
    expect(parsed('GET', 'HTTP/1.1 204 No Content').keepAlive).toBe(true);
  });

  it('reads chunked bodies, and bodies delimited by the connection closing', () => {
    expect(parsed('GET', 'HTTP/1.1 200 OK', 'transfer-encoding: chunked').framing).toEqual({
      kind: 'chunked',
    });
    const untilClose = parsed('GET', 'HTTP/1.1 200 OK');
    expect(untilClose.framing).toEqual({ kind: 'close' });
    expect(untilClose.keepAlive).toBe(false);
    expect(parsed('GET', 'HTTP/1.1 200 OK', 'transfer-encoding: gzip').framing).toEqual({ kind: 'close' });
  });

  it('keeps an HTTP/1.0 connection only when asked, and never after Connection: close', () => {
    expect(parsed('GET', 'HTTP/1.0 200 OK', 'content-length: 1').keepAlive).toBe(false);
    expect(parsed('GET', 'HTTP/1.0 200 OK', 'content-length: 1', 'connection: keep-alive').keepAlive).toBe(
      true,
    );
    expect(parsed('GET', 'HTTP/1.1 200 OK', 'content-length: 1', 'connection: close').keepAlive).toBe(false);
  });

  it.each([
    ['a malformed status line', ['HTTP/1.1 20 OK']],
    ['another protocol', ['HTTP/2 200 OK']],
    [
      'Content-Length with Transfer-Encoding',
      ['HTTP/1.1 200 OK', 'content-length: 1', 'transfer-encoding: chunked'],
    ],
    ['differing Content-Lengths', ['HTTP/1.1 200 OK', 'content-length: 1', 'content-length: 2']],
    ['chunked not last', ['HTTP/1.1 200 OK', 'transfer-encoding: chunked, gzip']],
    ['obs-fold', ['HTTP/1.1 200 OK', 'x-a: 1', '\tmore']],
    ['a bare LF', ['HTTP/1.1 200 OK', 'x-a: 1\nx-b: 2']],
    ['a bare CR in the status line', ['HTTP/1.1 200 O\rK']],
    ['a control byte in the reason', ['HTTP/1.1 200 O\u0000K']],
    ['status 099', ['HTTP/1.1 099 Odd']],
  ])('rejects %s', (_name, lines) => {
    expect(invalid(...lines)).toBe(true);
  });
});
