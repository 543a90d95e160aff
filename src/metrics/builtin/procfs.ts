/**
 * Reads process accounting from Linux's /proc. Every reader returns null when the process is gone
 * (or /proc does not exist), because processes vanish between listing and reading as a matter of
 * course. Reads are synchronous: /proc files are generated in memory and are a few hundred bytes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** CPU time in user mode, clock ticks. */
  readonly utime: number;
  /** CPU time in kernel mode, clock ticks. */
  readonly stime: number;
  /** Start time after boot, clock ticks: with the pid, identifies a process across pid reuse. */
  readonly starttime: number;
}

/** What the sampler needs from /proc; tests substitute their own. */
export interface ProcReader {
  readProcStat(pid: number): ProcStat | null;
  readRssBytes(pid: number): number | null;
  clockTicksPerSecond(): number;
}

function readProcFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function readProcStat(pid: number): ProcStat | null {
  const text = readProcFile(`/proc/${pid}/stat`);
  if (text === null) return null;
  return parseProcStat(text);
}

/**
 * The command name (field 2) is in parentheses and may itself contain spaces and parentheses, so
 * fields are counted from the last ')'. After it come field 3 (state) onwards.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  const field = (n: number): number => Number(fields[n - 3]);
  const utime = field(14);
  const stime = field(15);
  const starttime = field(22);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !Number.isFinite(starttime)) return null;
  return { utime, stime, starttime };
}

/** Resident set size from /proc/PID/statm (pages), falling back to VmRSS in /proc/PID/status. */
export function readRssBytes(pid: number): number | null {
  const statm = readProcFile(`/proc/${pid}/statm`);
  if (statm !== null) {
    const pages = Number(statm.split(' ')[1]);
    if (Number.isFinite(pages)) return pages * pageSize();
  }
  const status = readProcFile(`/proc/${pid}/status`);
  const match = status?.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return match?.[1] === undefined ? null : Number(match[1]) * 1024;
}

let ticks: number | undefined;
let page: number | undefined;

function getconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** USER_HZ, fixed for the life of the system: read once. 100 on every mainstream Linux. */
export function clockTicksPerSecond(): number {
  ticks ??= getconf('CLK_TCK', 100);
  return ticks;
}

export function pageSize(): number {
  page ??= getconf('PAGESIZE', 4096);
  return page;
}

export const procfs: ProcReader = { readProcStat, readRssBytes, clockTicksPerSecond };
