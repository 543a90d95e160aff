import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headEnd } from './fields.js';
import type { RequestHead } from './request-head.js';
import { parseRequestHead, requestFieldNames } from './request-head.js';

const names = requestFieldNames(['x-augur-key']);

/** `lines` joined by CRLF, as the parser receives a head (without the final blank line). */
const headOf = (...lines: string[]): string => lines.join('\r\n');

function parsed(...lines: string[]): RequestHead {
  const result = parseRequestHead(headOf(...lines), names);
  if (!result.ok) throw new Error(result.message);
  return result.head;
}

function rejected(...lines: string[]): number {
  const result = parseRequestHead(headOf(...lines), names);
  return result.ok ? 200 : result.status;
}

describe('request head', () => {
  it('reads the request line, fields and framing', () => {
    const head = parsed('POST /cart?x=1 HTTP/1.1', 'Host: shop', 'Content-Length:  12 ', 'X-Augur-Key: u1');
    expect(head).toMatchObject({ method: 'POST', minor: 1, keepAlive: true, fieldsStart: 25 });
    expect(head.framing).toEqual({ kind: 'length', length: 12 });
    // Only the fields asked for are picked out; their positions index the head.
    expect(head.fields.map((f) => [f.name, f.value])).toEqual([
      ['host', 'shop'],
      ['content-length', '12'],
      ['x-augur-key', 'u1'],
    ]);
    const line = head.fields[1];
    expect(head.text.slice(line?.start, line?.end)).toBe('Content-Length:  12 ');
    expect(parsed('GET / HTTP/1.1', 'x-other: 1', 'host: a').fields.map((f) => f.name)).toEqual(['host']);
  });

  it('reads chunked framing, and none for a body-less request', () => {
    expect(parsed('POST / HTTP/1.1', 'host: a', 'transfer-encoding: gzip, Chunked').framing).toEqual({
      kind: 'chunked',
    });
    expect(parsed('GET / HTTP/1.1', 'host: a').framing).toEqual({ kind: 'none' });
    expect(parsed('POST / HTTP/1.1', 'host: a', 'content-length: 0').framing).toEqual({ kind: 'none' });
  });

  it('accepts Content-Length repeated with the same value', () => {
    const head = parsed('POST / HTTP/1.1', 'host: a', 'content-length: 5', 'content-length: 5, 5');
    expect(head.framing).toEqual({ kind: 'length', length: 5 });
    expect(head.contentLength).toBe(5);
  });

  it('tells persistence from the version and Connection', () => {
    expect(parsed('GET / HTTP/1.1', 'host: a', 'connection: close').keepAlive).toBe(false);
    expect(parsed('GET / HTTP/1.0').keepAlive).toBe(false);
    expect(parsed('GET / HTTP/1.0', 'Connection: Keep-Alive').keepAlive).toBe(true);
    expect(parsed('GET / HTTP/1.1', 'host: a', 'connection: keep-alive, x-hop').connection).toEqual([
      'keep-alive',
      'x-hop',
    ]);
    expect(parsed('GET / HTTP/1.1', 'host: a', 'upgrade: websocket', 'connection: upgrade').upgrade).toBe(
      true,
    );
  });

  // Each of these is a way to make two HTTP parsers disagree on where a request ends.
  it.each([
    ['Content-Length with Transfer-Encoding', ['content-length: 5', 'transfer-encoding: chunked']],
    ['differing Content-Lengths', ['content-length: 5', 'content-length: 6']],
    ['a differing Content-Length list', ['content-length: 5, 6']],
    ['a signed Content-Length', ['content-length: +5']],
    ['a Content-Length that is not a number', ['content-length: 5a']],
    ['chunked before another coding', ['transfer-encoding: chunked, gzip']],
    ['chunked twice', ['transfer-encoding: chunked, chunked']],
    ['a final coding other than chunked', ['transfer-encoding: gzip']],
    ['an empty Transfer-Encoding', ['transfer-encoding: ']],
    ['space before the colon', ['transfer-encoding : chunked']],
    ['obs-fold', ['x-a: 1', ' continued']],
    ['a field without a colon', ['x-a']],
    ['a field with an empty name', [': x']],
    ['a NUL in a value', ['x-a: a\u0000b']],
    ['a bare CR in a value', ['x-a: a\rb']],
    ['a bare LF in a value', ['x-a: a\nb']],
    ['a control byte in a name', ['x\u0001a: b']],
    ['two Host fields', ['host: b']],
  ])('rejects %s with 400', (_name, fields) => {
    expect(rejected('POST / HTTP/1.1', 'host: a', ...fields)).toBe(400);
  });

  it.each([
    ['a missing Host in HTTP/1.1', 'GET / HTTP/1.1'],
    ['a space in the target', 'GET /a b HTTP/1.1'],
    ['a lower-case version', 'GET / http/1.1'],
    ['a missing version', 'GET /'],
    ['a method that is not a token', 'G(T / HTTP/1.1'],
    ['an empty line', ''],
  ])('rejects %s with 400', (_name, line) => {
    expect(rejected(line)).toBe(400);
  });

  it('rejects Transfer-Encoding from an HTTP/1.0 client', () => {
    expect(rejected('POST / HTTP/1.0', 'transfer-encoding: chunked')).toBe(400);
  });

  it('answers 505 to other HTTP versions', () => {
    expect(rejected('GET / HTTP/2.0', 'host: a')).toBe(505);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(typeof parseRequestHead(Buffer.from(bytes).toString('latin1'), names).ok).toBe('boolean');
      }),
    );
  });

  it('accepts well-formed heads, and rejects each with one control byte put anywhere', () => {
    const framing = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade']);
    const name = fc
      .stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,12}$/)
      .filter((n) => !framing.has(n.toLowerCase()));
    const value = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, value), { maxLength: 6 }),
        fc.nat(),
        fc.oneof(fc.integer({ min: 0, max: 31 }), fc.constant(0x7f)).filter((c) => c !== 0x09), // HTAB is allowed in values
        (fields, at, control) => {
          const text = ['GET /p?q=1 HTTP/1.1', 'host: a', ...fields.map(([n, v]) => `${n}: ${v}`)].join(
            '\r\n',
          );
          expect(parseRequestHead(text, names).ok).toBe(true);
          const i = at % (text.length + 1);
          const spoiled = text.slice(0, i) + String.fromCharCode(control) + text.slice(i);
          expect(parseRequestHead(spoiled, names).ok).toBe(false);
        },
      ),
    );
  });

  it('finds the end of a head split anywhere', () => {
    const bytes = Buffer.from('GET / HTTP/1.1\r\nhost: a\r\n\r\nbody');
    expect(headEnd(bytes, 0)).toBe(bytes.length - 4);
    expect(headEnd(bytes.subarray(0, bytes.length - 6), 0)).toBe(-1);
  });
});
