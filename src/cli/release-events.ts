import type { ReleaseEvent } from '../controller/core/events.js';

const SHOWN = new Set([
  'release-started',
  'tier-started',
  'decision',
  'warning',
  'resumed',
  'paused',
  'outage',
  'rolled-back',
  'promoted',
  'release-ended',
  'router-failed',
  'operator',
  'mitigation',
]);

/** One line per event worth a person's attention (observations and weight chatter are skipped). */
export function releaseEventLine(event: ReleaseEvent): string | null {
  if (!SHOWN.has(event.type)) return null;
  if (event.type === 'decision' && event.signal === null) return null;
  const time = new Date(event.at).toISOString().slice(11, 19);
  const signal = event.signal !== null && event.type !== 'decision' ? `${event.signal} ` : '';
  return `${time} ${event.release.padEnd(12)} ${signal}${event.message}`;
}
