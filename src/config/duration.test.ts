import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['2h', 7_200_000],
    ['1m30s', 90_000],
    ['1s500ms', 1_500],
    ['0.1s', 100],
    ['1.5h', 5_400_000],
    ['0s', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '30',
    ' 30s',
    '30 s',
    '30S',
    '1m30',
    '30s1m',
    '1h1h',
    '-1s',
    '1.5ms',
    '0.0001s',
    's',
    'ms',
    '1d',
  ])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  const part = fc.option(fc.nat({ max: 10_000 }), { nil: undefined });

  it('sums its components, in any combination of units written largest first', () => {
    fc.assert(
      fc.property(part, part, part, part, (h, m, s, ms) => {
        fc.pre([h, m, s, ms].some((v) => v !== undefined));
        const text = [
          h === undefined ? '' : `${h}h`,
          m === undefined ? '' : `${m}m`,
          s === undefined ? '' : `${s}s`,
          ms === undefined ? '' : `${ms}ms`,
        ].join('');
        const expected = (h ?? 0) * 3_600_000 + (m ?? 0) * 60_000 + (s ?? 0) * 1_000 + (ms ?? 0);
        expect(parseDuration(text)).toBe(expected);
      }),
    );
  });

  it('rejects units out of order and trailing garbage', () => {
    const unit = fc.constantFrom('h', 'm', 's', 'ms');
    const order = ['h', 'm', 's', 'ms'];
    fc.assert(
      fc.property(fc.nat(), unit, fc.nat(), unit, (a, first, b, second) => {
        fc.pre(order.indexOf(first) >= order.indexOf(second));
        expect(parseDuration(`${a}${first}${b}${second}`)).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(fc.nat(), unit, fc.constantFrom('x', ' ', '.', 'sec', 'd'), (a, u, junk) => {
        expect(parseDuration(`${a}${u}${junk}`)).toBeUndefined();
      }),
    );
  });

  it('reads back what formatDuration writes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000_000_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});

describe('formatDuration', () => {
  it('writes the shortest form', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(1_500)).toBe('1s500ms');
    expect(formatDuration(0)).toBe('0s');
  });
});
