/**
 * Turns successive /proc readings of a revision's processes into CPU cores used and resident
 * memory, summed per service × revision.
 */
import type { ProcReader } from './procfs.js';

export interface ProcessRef {
  readonly service: string;
  readonly revision: string;
  readonly pid: number;
}

/** Supplied by the runtime that starts the revisions' processes. */
export interface ProcessLister {
  processes(): readonly ProcessRef[];
}

export interface RevisionUsage {
  readonly service: string;
  readonly revision: string;
  /** Null until a process of the revision has been read twice. */
  readonly cpuCores: number | null;
  readonly rssBytes: number | null;
}

interface CpuReading {
  readonly starttime: number;
  readonly ticks: number;
  readonly at: number;
}

export class ProcessSampler {
  private readonly lister: ProcessLister;
  private readonly proc: ProcReader;
  private previous = new Map<number, CpuReading>();

  constructor(lister: ProcessLister, proc: ProcReader) {
    this.lister = lister;
    this.proc = proc;
  }

  /** @param now ms since epoch, from the caller's clock */
  sample(now: number): RevisionUsage[] {
    const perSecond = this.proc.clockTicksPerSecond();
    const current = new Map<number, CpuReading>();
    const usage = new Map<
      string,
      { service: string; revision: string; cpu: number | null; rss: number | null }
    >();
    for (const { service, revision, pid } of this.lister.processes()) {
      const key = `${service}\u0000${revision}`;
      let entry = usage.get(key);
      if (!entry) {
        entry = { service, revision, cpu: null, rss: null };
        usage.set(key, entry);
      }
      const stat = this.proc.readProcStat(pid);
      if (stat === null) continue;
      const reading = { starttime: stat.starttime, ticks: stat.utime + stat.stime, at: now };
      current.set(pid, reading);
      const before = this.previous.get(pid);
      // A different start time means the pid was reused: the old counters say nothing about it.
      if (before && before.starttime === stat.starttime && now > before.at && reading.ticks >= before.ticks) {
        const cores = (reading.ticks - before.ticks) / perSecond / ((now - before.at) / 1000);
        entry.cpu = (entry.cpu ?? 0) + cores;
      }
      const rss = this.proc.readRssBytes(pid);
      if (rss !== null) entry.rss = (entry.rss ?? 0) + rss;
    }
    this.previous = current;
    return [...usage.values()].map(({ service, revision, cpu, rss }) => ({
      service,
      revision,
      cpuCores: cpu,
      rssBytes: rss,
    }));
  }
}
