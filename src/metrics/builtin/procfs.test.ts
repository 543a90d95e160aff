import { describe, expect, it } from 'vitest';
import { clockTicksPerSecond, pageSize, parseProcStat, readProcStat, readRssBytes } from './procfs.js';

const onLinux = process.platform === 'linux';

function burnCpu(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

describe.skipIf(!onLinux)('procfs on this process (Linux only: /proc)', () => {
  it('reads the clock tick rate and page size', () => {
    expect(clockTicksPerSecond()).toBe(100);
    expect(pageSize()).toBeGreaterThanOrEqual(4096);
  });

  it('sees CPU time grow while burning CPU, with a stable start time', () => {
    const before = readProcStat(process.pid);
    expect(before).not.toBeNull();
    burnCpu(200);
    const after = readProcStat(process.pid);
    if (before === null || after === null) throw new Error('no /proc stat for this process');
    const seconds = (after.utime + after.stime - before.utime - before.stime) / clockTicksPerSecond();
    // 200 ms of busy wall time: some of it on CPU even on a loaded machine, at most 200 ms per core.
    expect(seconds).toBeGreaterThanOrEqual(0.05);
    expect(seconds).toBeLessThanOrEqual(1);
    expect(after.starttime).toBe(before.starttime);
  });

  it('reads a plausible resident set size', () => {
    const rss = readRssBytes(process.pid);
    expect(rss).not.toBeNull();
    // Node itself needs tens of MB; the figure should agree with what Node reports.
    expect(rss).toBeGreaterThan(10e6);
    expect(rss).toBeLessThan(4e9);
    expect(Math.abs((rss ?? 0) - process.memoryUsage.rss()) / process.memoryUsage.rss()).toBeLessThan(0.2);
  });
});

describe('procfs', () => {
  it('returns null for a process that does not exist', () => {
    expect(readProcStat(2 ** 22 + 17)).toBeNull();
    expect(readRssBytes(2 ** 22 + 17)).toBeNull();
  });

  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const line =
      '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 731 42 0 0 20 0 1 0 987654 1000 200 ';
    expect(parseProcStat(line)).toEqual({ utime: 731, stime: 42, starttime: 987654 });
    expect(parseProcStat('garbage')).toBeNull();
  });
});
