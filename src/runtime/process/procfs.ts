import { readdirSync, readFileSync } from 'node:fs';

/**
 * Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or null when the
 * process does not exist. Recorded with each PID so that a reused PID is never mistaken for ours.
 */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** The value of one environment variable of another process, or null (gone, or not readable). */
export function processEnv(pid: number, name: string): string | null {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    const prefix = `${name}=`;
    for (const entry of environ.split('\0')) if (entry.startsWith(prefix)) return entry.slice(prefix.length);
    return null;
  } catch {
    return null;
  }
}

/** PIDs of every process visible in /proc. */
export function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}
