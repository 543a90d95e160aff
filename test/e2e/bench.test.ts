import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { augur, repoRoot } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'augur-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** bench:detect cut down to one stream of one case and one A/A rollout: under a second. */
const SMALL_DETECT = { BENCH_STREAMS: '1', BENCH_AA_RUNS: '1', BENCH_ONLY: '^errors ×5 @ held 5%$' };

describe('augur bench', () => {
  it('runs a benchmark, writes its figures to --out and prints them with --json', async () => {
    const recorded = resolve(repoRoot, 'bench', 'results', 'detect.json');
    const before = statSync(recorded).mtimeMs;
    const r = await augur(['bench', 'detect', '--out', dir, '--json'], 60_000, SMALL_DETECT);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as {
      detect: { alpha: number; cases: { name: string; augur: { detectionRate: number | null } }[] };
    };
    expect(printed.detect.alpha).toBe(0.01);
    const ran = printed.detect.cases.find((c) => c.name === 'errors ×5 @ held 5%');
    expect(ran?.augur.detectionRate).toBe(1);
    // The table and PASS/FAIL lines went to stderr, stdout holds only the JSON.
    expect(r.stderr).toContain(`wrote ${join(dir, 'detect.json')}`);
    expect(JSON.parse(readFileSync(join(dir, 'detect.json'), 'utf8'))).toEqual(printed.detect);
    expect(statSync(recorded).mtimeMs).toBe(before);
  });

  it('refuses an unknown benchmark with a hint and exit 2, before running anything', async () => {
    const r = await augur(['bench', 'detetc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown benchmark "detetc" (did you mean "detect"?)');
    expect(r.stdout).toBe('');
  });

  it('lists the benchmarks in its help', async () => {
    const r = await augur(['bench', '--help']);
    expect(r.code).toBe(0);
    for (const name of ['proxy', 'detect', 'reaction', 'sim', 'predict'])
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });
});
