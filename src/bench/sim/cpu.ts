import { readFileSync } from 'node:fs';

/** CPU seconds all processes have used since boot (Linux /proc/stat), or null elsewhere. */
function machineBusySeconds(): number | null {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / 100; // USER_HZ
  } catch {
    return null;
  }
}

/**
 * Runs `work` and reports how many cores other processes kept busy meanwhile (machine CPU time
 * less this process's, worker threads included): the interference a scaling figure suffers.
 */
export async function withInterference<T>(
  work: () => Promise<T>,
): Promise<{ value: T; seconds: number; otherCores: number | null }> {
  const busy0 = machineBusySeconds();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const seconds = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const busy1 = machineBusySeconds();
  const otherCores =
    busy0 === null || busy1 === null
      ? null
      : Math.max(0, busy1 - busy0 - (own.user + own.system) / 1e6) / seconds;
  return { value, seconds, otherCores };
}
