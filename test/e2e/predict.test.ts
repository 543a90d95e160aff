/**
 * `augur predict` end to end: the real sandbox (shop processes) and the simulation on worker
 * threads. cart v3 (three times the work per request) must be predicted to saturate cart's CPU at
 * the 100% tier; nothing the sandbox starts may outlive the command.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimulationResult } from '../../src/predict/types.js';
import { augur, Background } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'augur-predict-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Processes whose Augur state directory lies under `dir`. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (env.some((e) => e.startsWith(`AUGUR_STATE_DIR=${dir}`))) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

describe('augur predict', () => {
  it('names cart v3 saturating its CPU at the 100% tier, writes the report, and leaves no process', async () => {
    const report = join(tmp, 'cart-v3.html');
    // Only the release file: the application is found as augur.yaml above it. --rate fixes the load
    // whatever history the working copy's store holds.
    const run = await augur(
      [
        'predict',
        'examples/shop/releases/cart-v3.yaml',
        '--json',
        '--rate',
        '50',
        '--seeds',
        '2',
        '--report',
        report,
      ],
      180_000,
      { TMPDIR: tmp },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/application: .*examples\/shop\/augur\.yaml/);
    expect(run.stderr).toMatch(/sandbox: /);
    const result = JSON.parse(run.stdout) as SimulationResult;
    expect(result.release).toBe('cart-v3');
    expect(result.breachTier).toBe(100);
    expect(result.riskScore).toBeGreaterThan(0.5);
    const first = result.failurePoints[0];
    expect(first).toMatchObject({ service: 'cart', revision: 'v3', resource: 'cpu', tier: 100 });
    expect(result.summary).toMatch(/cart v3 .*CPU.*100% tier/);
    const v3 = result.provenance.profiles.find((p) => p.service === 'cart' && p.revision === 'v3');
    const v1 = result.provenance.profiles.find((p) => p.service === 'cart' && p.revision === 'v1');
    expect(v3?.source).toBe('sandbox');
    expect(v1?.source).toBe('sandbox');
    expect(v3!.cpuMsPerRequest / v1!.cpuMsPerRequest).toBeGreaterThan(1.5);
    expect(existsSync(report)).toBe(true);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('cart v3');
    expect(html).not.toContain('<script');
    expect(processesUnder(tmp)).toEqual([]);
  }, 200_000);

  it('stops the sandbox on Ctrl-C: exit 130, no process left', async () => {
    const dir = mkdtempSync(join(tmp, 'interrupt-'));
    const run = new Background(['predict', 'examples/shop/releases/cart-v3.yaml', '--rate', '50'], {
      TMPDIR: dir,
    });
    await run.waitFor(/sandbox: starting/, 60_000);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.output).toMatch(/interrupted/);
    expect(processesUnder(dir)).toEqual([]);
  }, 90_000);

  it('refuses bad flags with exit code 2', async () => {
    const bad = await augur([
      'predict',
      'examples/shop/releases/cart-v3.yaml',
      '--scenarios',
      'nominal,sideways',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown scenario "sideways"/);
    const seeds = await augur(['predict', 'examples/shop/releases/cart-v3.yaml', '--seeds', '0']);
    expect(seeds.code).toBe(2);
  });
});
