import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { BuiltinMetrics } from './builtin-metrics.js';
import { ProcessSampler, type ProcessRef } from './process-sampler.js';
import type { ProcReader, ProcStat } from './procfs.js';

/** A scripted /proc: tests set each pid's counters between samples. */
class ScriptedProc implements ProcReader {
  readonly stats = new Map<number, ProcStat>();
  readonly rss = new Map<number, number>();
  readProcStat(pid: number): ProcStat | null {
    return this.stats.get(pid) ?? null;
  }
  readRssBytes(pid: number): number | null {
    return this.rss.get(pid) ?? null;
  }
  clockTicksPerSecond(): number {
    return 100;
  }
  set(pid: number, ticks: number, rss: number, starttime = 1): void {
    this.stats.set(pid, { utime: ticks, stime: 0, starttime });
    this.rss.set(pid, rss);
  }
}

describe('ProcessSampler', () => {
  it('sums CPU cores and memory over a revision’s processes', () => {
    const proc = new ScriptedProc();
    const processes: ProcessRef[] = [
      { service: 'cart', revision: 'v1', pid: 10 },
      { service: 'cart', revision: 'v1', pid: 11 },
      { service: 'cart', revision: 'v2', pid: 20 },
    ];
    const sampler = new ProcessSampler({ processes: () => processes }, proc);
    proc.set(10, 0, 100);
    proc.set(11, 0, 200);
    proc.set(20, 0, 300);
    // The first reading has nothing to compare with: CPU unknown, memory known.
    expect(sampler.sample(0)).toEqual([
      { service: 'cart', revision: 'v1', cpuCores: null, rssBytes: 300 },
      { service: 'cart', revision: 'v2', cpuCores: null, rssBytes: 300 },
    ]);
    proc.set(10, 50, 100); // 0.5 s of CPU in 1 s
    proc.set(11, 100, 250); // 1 s
    proc.set(20, 25, 300);
    const [v1, v2] = sampler.sample(1000);
    expect(v1?.cpuCores).toBeCloseTo(1.5);
    expect(v1?.rssBytes).toBe(350);
    expect(v2?.cpuCores).toBeCloseTo(0.25);
  });

  it('ignores vanished processes and reused pids', () => {
    const proc = new ScriptedProc();
    const sampler = new ProcessSampler(
      {
        processes: () => [
          { service: 'cart', revision: 'v1', pid: 10 },
          { service: 'cart', revision: 'v1', pid: 11 },
        ],
      },
      proc,
    );
    proc.set(10, 0, 100);
    proc.set(11, 0, 100);
    sampler.sample(0);
    proc.stats.delete(11); // exited between listing and reading
    proc.set(10, 500, 100, 2); // same pid, new process: counters are not comparable
    expect(sampler.sample(1000)).toEqual([
      { service: 'cart', revision: 'v1', cpuCores: null, rssBytes: 100 },
    ]);
    proc.set(10, 520, 100, 2);
    expect(sampler.sample(2000)[0]?.cpuCores).toBeCloseTo(0.2);
  });
});

describe('BuiltinMetrics CPU and memory', () => {
  it('reports mean cores and the last memory reading over a range', async () => {
    const T0 = 1_700_000_040_000;
    const clock = new ManualClock(T0);
    const proc = new ScriptedProc();
    const metrics = new BuiltinMetrics({
      clock,
      proc,
      processes: { processes: () => [{ service: 'cart', revision: 'v2', pid: 7 }] },
    });
    const ticks = [0, 20, 60, 70]; // then 0.2, 0.4, 0.1 cores
    ticks.forEach((t, i) => {
      proc.set(7, t, 1000 + i);
      metrics.tick();
      clock.advance(1000);
    });
    const a = await metrics.aggregate({ service: 'cart', revision: 'v2', from: T0, to: T0 + 4000 });
    expect(a.cpuCores).toBeCloseTo((0.2 + 0.4 + 0.1) / 3);
    expect(a.rssBytes).toBe(1003);
    expect(a.windows).toBe(0); // samples are not request activity
    expect((await metrics.revisions()).map((r) => r.revision)).toEqual(['v2']);
  });

  it('measures this very process through /proc', async () => {
    if (process.platform !== 'linux') return;
    const T0 = 1_700_000_040_000;
    const clock = new ManualClock(T0);
    const metrics = new BuiltinMetrics({
      clock,
      processes: { processes: () => [{ service: 'self', revision: 'v1', pid: process.pid }] },
    });
    metrics.tick();
    const end = performance.now() + 200;
    let x = 0;
    while (performance.now() < end) x += Math.sqrt(x + 1);
    clock.advance(200); // the manual clock follows the burn, so cores ≈ 1
    metrics.tick();
    const a = await metrics.aggregate({ service: 'self', revision: 'v1', from: T0, to: T0 + 1000 });
    expect(a.cpuCores).toBeGreaterThan(0.25);
    expect(a.cpuCores).toBeLessThan(2.5);
    expect(a.rssBytes).toBeGreaterThan(10e6);
  });
});

describe('BuiltinMetrics sampling failures', () => {
  it('reports a failing process lister through onError instead of throwing from the timer', () => {
    const codes: string[] = [];
    const metrics = new BuiltinMetrics({
      clock: new ManualClock(0),
      processes: {
        processes: () => {
          throw new Error('runtime not ready');
        },
      },
      onError: (e) => codes.push(e.code),
    });
    expect(() => metrics.tick()).not.toThrow();
    expect(codes).toEqual(['METRICS_SAMPLE_FAILED']);
  });
});
