import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SimulationResult } from '../types.js';
import { CHARTS, CPU_DETAIL, shopResult } from './fixture.js';
import { renderReport } from './index.js';

const EVIL = '<img src=x onerror=alert(1)>';

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Every SVG element opened is closed in order, and every numeric attribute is a finite number. */
function checkSvg(html: string): void {
  for (const [svg] of html.matchAll(/<svg[\s\S]*?<\/svg>/g)) {
    const stack: string[] = [];
    for (const [tag, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (selfClosing === '/') continue;
      if (closing === '/') expect(stack.pop(), tag).toBe(name);
      else stack.push(name ?? '');
    }
    expect(stack).toEqual([]);
    for (const [, name, value] of svg.matchAll(/ (x|y|x1|x2|y1|y2|cx|cy|r|width|height)="([^"]*)"/g)) {
      expect(Number.isFinite(Number(value)), `${name}="${value}"`).toBe(true);
    }
    for (const [, points] of svg.matchAll(/ points="([^"]*)"/g)) {
      for (const n of (points ?? '').trim().split(/[\s,]+/))
        expect(Number.isFinite(Number(n)), points).toBe(true);
    }
  }
}

describe('renderReport', () => {
  const html = renderReport(shopResult());

  it('is a full, self-contained HTML document', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const part of [
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      '<body>',
      '</body>',
      '</html>',
    ]) {
      expect(html).toContain(part);
    }
    expect(html).toContain('<title>Prediction: shop cart-v3</title>');
    expect(html).toMatch(/Content-Security-Policy" content="default-src &#39;none&#39;/);
    expect(html.toLowerCase()).not.toContain('<script');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/url\(|@import|<link|<img|<iframe/i);
    checkSvg(html);
  });

  it('writes a file under 300 KB', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'augur-report-'));
    try {
      const file = join(dir, 'out.html');
      await writeFile(file, html);
      expect((await stat(file)).size).toBeLessThan(300 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows the headline figures and provenance', () => {
    expect(html).toContain('<div class="risk risk-high"><span class="risk-value">62%</span>');
    expect(html).toContain('cart saturates its CPU at the 100% tier (1.3× allocation) under nominal load');
    expect(html).toMatch(/<dt>breach tier<\/dt><dd>100%<\/dd>/);
    expect(html).toMatch(/<dt>confidence<\/dt><dd>90%<\/dd>/);
    expect(html).toContain('queueing-sim/1');
    expect(html).toContain('nominal 42.5 req/s, peak 118 req/s');
    expect(html).toContain('1,440 minutes of stored history, 2025-01-14 09:00 UTC – 2025-01-15 09:00 UTC');
    expect(html).toContain(
      '<tr><td>cart</td><td>v3</td><td>sandbox</td><td>12,000</td><td>7.9 ms</td><td>19.8 ms</td><td>2.4 ms</td><td>0.1%</td><td>0 MiB</td></tr>',
    );
  });

  it('colours the risk by the thresholds', () => {
    const risk = (riskScore: number, options = {}): string =>
      /class="risk (risk-[a-z]+)"/.exec(renderReport({ ...shopResult(), riskScore }, options))?.[1] ?? '';
    expect(risk(0.1)).toBe('risk-low');
    expect(risk(0.3)).toBe('risk-medium');
    expect(risk(0.5)).toBe('risk-medium');
    expect(risk(0.51)).toBe('risk-high');
    expect(risk(0.05, { riskLow: 0.01, riskHigh: 0.04 })).toBe('risk-high');
    expect(risk(0.03, { riskLow: 0.01, riskHigh: 0.04 })).toBe('risk-medium');
    expect(risk(Number.NaN)).toBe('risk-unknown');
  });

  it('draws one range chart per service and metric, grouped per service', () => {
    expect(count(html, '<figure class="chart range"')).toBe(CHARTS.length);
    for (const [service, metric] of CHARTS) {
      expect(count(html, `data-service="${service}" data-metric="${metric}"`)).toBe(1);
    }
    const services = [...html.matchAll(/<section class="service"><h3>([^<]*)<\/h3>/g)].map((m) => m[1]);
    expect(services).toEqual(['cart', 'frontend', 'catalog']);
  });

  it('labels the tiers, dashes the limits and puts breach probabilities in tooltips', () => {
    const cpu = /data-service="cart" data-metric="cpuUtilisation"[\s\S]*?<\/figure>/.exec(html)?.[0] ?? '';
    for (const tier of ['0.1%', '1%', '5%', '25%', '50%', '100%']) expect(cpu).toContain(`>${tier}</text>`);
    expect(cpu).toMatch(/<line class="limit"[^>]*stroke-dasharray/);
    expect(cpu).toContain('limit 85%');
    expect(cpu).toContain('<title>100% tier: 121% – 140%; limit 85%; breach probability 100%</title>');
    expect(cpu).toContain('class="range breach-likely"');
    expect(count(cpu, '<rect class="range')).toBe(6);
    const p50 = /data-metric="latencyP50Ms"[\s\S]*?<\/figure>/.exec(html)?.[0] ?? '';
    expect(p50).not.toContain('class="limit"');
    expect(p50).toContain('<title>0.1% tier: 8.1 ms – 9.4 ms; no limit; breach probability 0%</title>');
  });

  it('plots utilisation against load with a saturation line', () => {
    expect(count(html, '<figure class="chart utilisation"')).toBe(3);
    expect(count(html, '<line class="saturation"')).toBe(3);
    expect(count(html, '<polyline class="line cpu"')).toBe(3);
    expect(html).toContain('<title>3× load: CPU 141%</title>');
  });

  it('lists failure points earliest first with their detail', () => {
    const table = /<h2>Failure points<\/h2>[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(table).toContain(`<td>${CPU_DETAIL}</td>`);
    expect(table.indexOf('concurrency-saturation')).toBeLessThan(table.indexOf('cpu-saturation'));
    expect(table).toContain(
      '<td>cpu-saturation</td><td>cart</td><td>v3</td><td>cpu</td><td>already at 1×</td><td>100%</td><td>nominal</td>',
    );
    expect(table).toContain('<td>2.5×</td><td>50%</td><td>spike</td>');
  });

  it('lists scenarios and seeds', () => {
    expect(html).toContain(
      '<tr><td>nominal</td><td>0.6</td><td>120</td><td>58%</td><td>Recorded load as observed</td></tr>',
    );
    expect(html).toContain('<summary>200 seeds</summary><p><code>1000, 8919, 16838,');
    const few = renderReport({ ...shopResult(), seeds: [7, 11] });
    expect(few).toContain('Seeds: <code>7, 11</code>');
  });

  it('escapes every string from the result', () => {
    const base = shopResult();
    const rename = <T extends { service: string }>(x: T): T =>
      x.service === 'cart' ? { ...x, service: EVIL } : x;
    const evil: SimulationResult = {
      ...base,
      release: EVIL,
      application: `shop"><script>alert(1)</script>`,
      summary: EVIL,
      modelVersion: EVIL,
      ranges: base.ranges.map((r) => ({ ...rename(r), revision: `v3" onmouseover="alert(1)` })),
      failurePoints: base.failurePoints.map((f) => ({ ...rename(f), detail: EVIL, scenario: EVIL })),
      utilisation: base.utilisation.map(rename),
      scenarios: base.scenarios.map((s) => ({ ...s, name: EVIL, description: `'&<>"` })),
      provenance: { ...base.provenance, profiles: base.provenance.profiles.map(rename) },
    };
    const out = renderReport(evil, { title: EVIL });
    expect(out).not.toContain('<img');
    expect(out.toLowerCase()).not.toContain('<script');
    expect(out).not.toContain('onmouseover="');
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(out).toContain('&#39;&amp;&lt;&gt;&quot;');
    expect(out).toContain('data-service="&lt;img src=x onerror=alert(1)&gt;" data-metric="cpuUtilisation"');
    expect(count(out, '<figure class="chart range"')).toBe(CHARTS.length);
    checkSvg(out);
  });

  it('handles a result with nothing to show', () => {
    const out = renderReport({
      ...shopResult(),
      ranges: [],
      failurePoints: [],
      utilisation: [],
      scenarios: [],
      seeds: [],
      breachTier: null,
      provenance: { profiles: [], history: null, nominalRatePerSec: 0, peakRatePerSec: 0 },
    });
    expect(out).toContain('</html>');
    expect(out).not.toContain('<svg');
    expect(out).toContain('No predicted ranges.');
    expect(out).toContain('No utilisation curves.');
    expect(out).toContain('<p class="none">none found</p>');
    expect(out).toContain('No scenarios.');
    expect(out).toContain('no stored history');
    expect(out).toMatch(/<dt>breach tier<\/dt><dd>none<\/dd>/);
  });

  it('keeps NaN and Infinity out of the output', () => {
    const base = shopResult();
    const out = renderReport({
      ...base,
      riskScore: Number.NaN,
      confidence: Infinity,
      tiers: [...base.tiers, Number.NaN],
      ranges: base.ranges.map((r, i) =>
        i % 3 === 0
          ? { ...r, low: Number.NaN, high: Infinity, limit: Infinity, breachProbability: Number.NaN }
          : i % 3 === 1
            ? { ...r, tier: Number.NaN, high: -Infinity }
            : r,
      ),
      failurePoints: [
        ...base.failurePoints,
        { ...base.failurePoints[0]!, tier: Number.NaN, loadMultiple: Infinity },
      ],
      utilisation: [
        ...base.utilisation.map((c) => ({
          ...c,
          points: c.points.map((p, i) =>
            i === 2 ? { loadMultiple: Number.NaN, cpu: Infinity, slots: Number.NaN } : p,
          ),
        })),
        {
          service: 'empty',
          revision: 'v1',
          points: [{ loadMultiple: Number.NaN, cpu: Number.NaN, slots: Infinity }],
        },
      ],
      scenarios: base.scenarios.map((s) => ({ ...s, weight: Number.NaN, runs: Infinity })),
      seeds: [Number.NaN, 1],
      provenance: {
        ...base.provenance,
        history: { minutes: Number.NaN, from: Number.NaN, to: Infinity },
        nominalRatePerSec: Number.NaN,
        profiles: base.provenance.profiles.map((p) => ({
          ...p,
          requests: Number.NaN,
          cpuMsPerRequest: Infinity,
        })),
      },
    });
    expect(out).not.toContain('NaN');
    expect(out).not.toContain('Infinity');
    expect(count(out, '<figure class="chart range"')).toBe(CHARTS.length);
    expect(out).toContain('no finite points');
    checkSvg(out);
  });

  it('uses the given title', () => {
    expect(renderReport(shopResult(), { title: 'Cart v3 & friends' })).toContain(
      '<title>Cart v3 &amp; friends</title>',
    );
  });
});

describe('the prediction model section', () => {
  it('shows the model version, coverage, and risk scores against outcomes; says so when there is none', () => {
    const model = {
      current: {
        id: 's-0a1b2c3d',
        createdAt: 1_700_000_000_000,
        rows: 1_200,
        trainingSpan: { from: 1_699_990_000_000, to: 1_700_000_000_000 },
        trainSeconds: 1.2,
        metrics: {
          latencyP99Ms: {
            modelId: 'm-1',
            rows: 960,
            validation: { n: 240, coverage: 0.904, meanWidth: 0.42 },
          },
        },
      },
      versions: [],
      data: {
        rows: 1_300,
        span: { from: 1_699_990_000_000, to: 1_700_000_100_000 },
        perService: { cart: 1_300 },
      },
      learnedFrom: 500,
      coverage: [
        {
          service: 'cart',
          metric: 'latencyP99Ms' as const,
          n: 100,
          coverage: 0.91,
          learned: 60,
          learnedCoverage: 0.9,
          overTime: [{ from: 0, n: 100, coverage: 0.91 }],
        },
      ],
      outcomes: [{ release: EVIL, risk: 0.8, predictedAt: 0, phase: 'rolled-back', bad: true }],
      reliability: {
        bins: [{ from: 0.8, to: 1, count: 1, meanPredicted: 0.8, observedFrequency: 1 }],
        expectedCalibrationError: 0.2,
        brier: 0.04,
      },
      capture: [{ share: 1, gated: 1, caught: 1, captureRate: 1 }],
      lastRetrain: 1_700_000_000_000,
    };
    const html = renderReport(shopResult(), { model });
    expect(html).toContain('<h2>Prediction model</h2>');
    expect(html).toContain('s-0a1b2c3d');
    expect(html).toMatch(/90\.4\s*%/);
    expect(html).toContain('Expected calibration error 0.2,');
    expect(html).not.toContain(EVIL);
    const cold = renderReport(shopResult(), {
      model: { ...model, current: null, reliability: null, capture: null },
    });
    expect(cold).toContain('No model trained yet');
    expect(renderReport(shopResult(), { model: null })).toContain('No store');
    expect(renderReport(shopResult())).not.toContain('Prediction model');
  });
});
