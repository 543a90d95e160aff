import type { DataPlaneEvent } from '../server/dataplane.js';

/** One human-readable line per data-plane event, or null for events not worth a line. */
export function eventLine(event: DataPlaneEvent): string | null {
  const who = 'service' in event && 'revision' in event ? `${event.service} ${event.revision}` : '';
  const replica = 'replica' in event ? `#${event.replica}` : '';
  switch (event.type) {
    case 'listening':
      return null;
    case 'started':
      return null;
    case 'ready':
      return `ready      ${who}${replica} pid ${event.pid} on :${event.port} (${event.afterMs} ms)`;
    case 'crashed':
      return `CRASHED    ${who}${replica} pid ${event.pid} (${event.signal ?? `exit code ${String(event.code)}`})`;
    case 'restarting':
      return `restarting ${who}${replica} in ${event.delayMs} ms (attempt ${event.attempt})`;
    case 'crash-loop':
      return `CRASH LOOP ${who}${replica}: ${event.crashes} crashes within ${event.windowMs / 1000} s`;
    case 'stopped':
      return `stopped    ${who}${replica} pid ${event.pid}${event.forced ? ' (killed after grace period)' : ''}`;
    case 'orphan-stopped':
      return `stopped orphan of an earlier run: ${who} pid ${event.pid}`;
    case 'traffic': {
      const { split } = event;
      const canary = split.canary === null ? 'no canary' : `${split.canaryWeight / 100}% → ${split.canary}`;
      return `traffic    ${split.service}: ${canary}, ${(10_000 - split.canaryWeight) / 100}% → ${split.stable}${event.restored ? ' (restored)' : ''}`;
    }
    case 'metrics-error':
      return `metrics    could not persist history: ${event.message}`;
  }
}
