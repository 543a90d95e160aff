import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../../store/store.js';
import type { RuntimeObserver } from '../runtime.js';
import { listPids, processEnv, processStartTicks } from './procfs.js';
import { isAlive, killGroup } from './signals.js';

/**
 * Stops processes left by an earlier run that used the same state directory and died without
 * stopping them (e.g. killed with SIGKILL). Two sources, so that nothing escapes:
 * the PIDs recorded in the store (checked against their start time, so a reused PID is spared),
 * and a scan of /proc for processes whose environment names this state directory.
 * The caller must hold the state directory's lock, so no live Augur owns these processes.
 */
export async function stopOrphans(
  store: Store,
  stateDir: string,
  currentOwner: string,
  observer?: RuntimeObserver,
  graceMs = 2_000,
): Promise<number> {
  const victims = new Map<number, { service: string; revision: string }>();
  for (const record of await store.listProcesses()) {
    if (record.owner === currentOwner) continue;
    const ticks = processStartTicks(record.pid);
    if (ticks !== null && ticks === record.startTicks) {
      victims.set(record.pid, { service: record.service, revision: record.revision });
    } else {
      await store.forgetProcess(record.pid);
    }
  }
  for (const pid of listPids()) {
    if (pid === process.pid || victims.has(pid)) continue;
    if (processEnv(pid, 'AUGUR_STATE_DIR') !== stateDir) continue;
    const owner = processEnv(pid, 'AUGUR_OWNER');
    if (owner === null || owner === currentOwner) continue;
    victims.set(pid, {
      service: processEnv(pid, 'AUGUR_SERVICE') ?? '?',
      revision: processEnv(pid, 'AUGUR_REVISION') ?? '?',
    });
  }
  for (const pid of victims.keys()) killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && [...victims.keys()].some(isAlive)) await sleep(50);
  for (const [pid, who] of victims) {
    if (isAlive(pid)) killGroup(pid, 'SIGKILL');
    await store.forgetProcess(pid);
    observer?.onRuntimeEvent({ type: 'orphan-stopped', pid, ...who });
  }
  return victims.size;
}
