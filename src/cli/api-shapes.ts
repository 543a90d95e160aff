/**
 * What the CLI reads from a server's answers, checked before it is printed or acted on: a URL that
 * answers JSON of another shape (another service on the port, an older or a foreign API) gets a
 * clear error instead of a crash half-way through a table. Only the fields the CLI uses are checked;
 * others pass through untouched, so `--json` prints the server's answer as it came.
 */
import { z } from 'zod';
import type { ReleaseEvent } from '../controller/core/events.js';
import type { ReleaseView } from '../server/release-view.js';

const share = z.number().finite();

const trackShape = z.looseObject({
  service: z.string(),
  stable: z.string(),
  canary: z.string(),
  phase: z.string(),
  tier: share.nullable(),
  tierIndex: z.number().int(),
  tiers: z.array(share),
  weight: share,
  targetWeight: share,
  reason: z.string().nullable(),
  risk: z.looseObject({ value: share }).nullable(),
});

export const releaseShape = z.looseObject({
  name: z.string(),
  phase: z.string(),
  lastSequence: z.number().int(),
  services: z.array(trackShape),
}) as unknown as z.ZodType<ReleaseView>;

export const releaseListShape = z.looseObject({ releases: z.array(releaseShape) }) as unknown as z.ZodType<{
  releases: ReleaseView[];
}>;

const eventShape = z.looseObject({
  sequence: z.number().int(),
  at: z.number(),
  release: z.string(),
  type: z.string(),
  signal: z.string().nullable(),
  message: z.string(),
});

export const eventListShape = z.looseObject({ events: z.array(eventShape) }) as unknown as z.ZodType<{
  events: ReleaseEvent[];
}>;

/** The first problem of a failed check, as `field.path: message`. */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'unexpected shape';
  const where = issue.path.length === 0 ? 'the body' : issue.path.map(String).join('.');
  return `${where}: ${issue.message}`;
}
