import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedTracker } from './chunked.js';

/** Feeds `parts` in order; returns bytes consumed in all, and the tracker. */
function feed(parts: readonly Buffer[]): { used: number; tracker: ChunkedTracker } {
  const tracker = new ChunkedTracker();
  let used = 0;
  for (const part of parts) {
    const n = tracker.consume(part, 0);
    used += n;
    if (n < part.length) break;
  }
  return { used, tracker };
}

function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(bytes.subarray(from, p));
    from = p;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

const extension = fc.constantFrom('', ';a=b', ';name', ';q="x y"', ';a=1;b=2');
const trailer = fc.constantFrom('', 'x-checksum: abc\r\n', 'a: 1\r\nb: 2\r\n');
const chunk = fc.record({
  data: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  ext: extension,
  upper: fc.boolean(),
  pad: fc.integer({ min: 0, max: 3 }),
});
const body = fc.record({ chunks: fc.array(chunk, { maxLength: 8 }), trailer, lastExt: extension });

function encode(b: {
  chunks: { data: Uint8Array; ext: string; upper: boolean; pad: number }[];
  trailer: string;
  lastExt: string;
}): Buffer {
  const parts: Buffer[] = [];
  for (const c of b.chunks) {
    let size = c.data.length.toString(16);
    if (c.upper) size = size.toUpperCase();
    parts.push(
      Buffer.from(`${'0'.repeat(c.pad)}${size}${c.ext}\r\n`),
      Buffer.from(c.data),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`0${b.lastExt}\r\n${b.trailer}\r\n`));
  return Buffer.concat(parts);
}

describe('chunked tracker', () => {
  it('finds the end of any chunked body however it is split, leaving what follows untouched', () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 12 }), (b, cuts) => {
        const encoded = encode(b);
        const next = Buffer.from('GET /next HTTP/1.1\r\n');
        const whole = feed([Buffer.concat([encoded, next])]);
        const split = feed(splitAt(Buffer.concat([encoded, next]), cuts));
        for (const { used, tracker } of [whole, split]) {
          expect(tracker.error).toBeNull();
          expect(tracker.done).toBe(true);
          expect(used).toBe(encoded.length);
          expect(tracker.dataBytes).toBe(b.chunks.reduce((sum, c) => sum + c.data.length, 0));
        }
      }),
    );
  });

  it('is never done before the last byte of a body, fed one byte at a time', () => {
    fc.assert(
      fc.property(body, (b) => {
        const encoded = encode(b);
        const tracker = new ChunkedTracker();
        for (let i = 0; i < encoded.length; i++) {
          expect(tracker.done).toBe(false);
          expect(tracker.consume(encoded.subarray(i, i + 1), 0)).toBe(1);
          if (tracker.done) expect(i).toBe(encoded.length - 1);
        }
        expect(tracker.done).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    ['a sign before the size', '+5\r\nhello\r\n0\r\n\r\n'],
    ['a space before an extension', '5 ;a\r\nhello\r\n0\r\n\r\n'],
    ['no size', '\r\nhello\r\n0\r\n\r\n'],
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['data longer than its size', '5\r\nhello!\r\n0\r\n\r\n'],
    ['a bare LF after the data', '5\r\nhello\n0\r\n\r\n'],
    ['a size beyond 2^52', '10000000000000\r\n'],
    ['a control byte in a trailer', '0\r\nx: a\u0001b\r\n\r\n'],
    ['a bare CR in a trailer', '0\r\nx: a\rb\r\n\r\n'],
    ['a non-hex size', 'g\r\n'],
  ])('rejects %s', (_name, text) => {
    const { tracker } = feed([Buffer.from(text, 'latin1')]);
    expect(tracker.error).not.toBeNull();
    expect(tracker.done).toBe(false);
  });

  it('bounds size lines and trailer sections', () => {
    const longExtension = `5;${'a'.repeat(5000)}\r\n`;
    expect(feed([Buffer.from(longExtension)]).tracker.error).toMatch(/too long/);
    const trailers = `0\r\n${'x: y\r\n'.repeat(12_000)}\r\n`;
    expect(feed([Buffer.from(trailers)]).tracker.error).toMatch(/too large/);
  });
});
