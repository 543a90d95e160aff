import { describe, expect, it } from 'vitest';
import { coord, escapeHtml, markup } from './escape.js';
import {
  formatInteger,
  formatMs,
  formatMultiple,
  formatNumber,
  formatPercent,
  formatRate,
  formatTier,
  formatTime,
} from './format.js';
import { extent, niceTicks } from './svg.js';

describe('escaping', () => {
  it('escapes the five significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('escapes interpolated strings but not nested markup', () => {
    const inner = markup`<b>${'<i>'}</b>`;
    expect(markup`<p title="${'"'}">${inner}${['<', markup`<br>`]}</p>`.value).toBe(
      '<p title="&quot;"><b>&lt;i&gt;</b>&lt;<br></p>',
    );
  });

  it('renders coordinates rounded and never as NaN', () => {
    expect(coord(1.23456)).toBe('1.23');
    expect(coord(-0.001)).toBe('0');
    expect(coord(Number.NaN)).toBe('0');
    expect(coord(-Infinity)).toBe('0');
  });
});

describe('formatting', () => {
  it('formats milliseconds with one decimal', () => {
    expect(formatMs(12.345)).toBe('12.3 ms');
    expect(formatMs(250)).toBe('250.0 ms');
    expect(formatMs(Number.NaN)).toBe('— ms');
  });

  it('formats ratios as percentages', () => {
    expect(formatPercent(0.85)).toBe('85%');
    expect(formatPercent(0.375)).toBe('37.5%');
    expect(formatPercent(1.4)).toBe('140%');
    expect(formatPercent(0.0005)).toBe('0.05%');
    expect(formatPercent(0.0000001)).toBe('<0.01%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(Infinity)).toBe('∞');
    expect(formatPercent(Number.NaN)).toBe('—');
  });

  it('formats tiers, multiples, rates, counts and times', () => {
    expect(formatTier(0.1)).toBe('0.1%');
    expect(formatTier(null)).toBe('any');
    expect(formatMultiple(1.25)).toBe('1.25×');
    expect(formatMultiple(null)).toBe('already at 1×');
    expect(formatRate(42.55)).toBe('42.5 req/s');
    expect(formatInteger(1234567)).toBe('1,234,567');
    expect(formatNumber(-0.01, 1)).toBe('0');
    expect(formatTime(Date.UTC(2025, 0, 14, 9, 30))).toBe('2025-01-14 09:30 UTC');
    expect(formatTime(8.64e15 + 1)).toBe('—');
  });
});

describe('axis ticks', () => {
  it('chooses round steps covering the range', () => {
    expect(niceTicks(0, 1.4)).toEqual([0, 0.5, 1, 1.5]);
    expect(niceTicks(0, 890.3)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(0, 0.0143)).toEqual([0, 0.005, 0.01, 0.015]);
    expect(niceTicks(0, 3, 5)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]);
  });

  it('falls back when the range is empty or not finite', () => {
    expect(niceTicks(1, 1)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN, 1)).toEqual([0, 1]);
    expect(extent([Number.NaN, Infinity], [0, 1])).toEqual([0, 1]);
    expect(extent([2, 2], [0, 1])).toEqual([2, 4]);
  });
});
