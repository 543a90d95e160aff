/**
 * Parts of the configuration format this version of Augur accepts but cannot run: the format names
 * every backend the product will support, while only the builtin router and metrics and the SQLite
 * store exist so far. Such a file is valid; running it would silently use something else, so the
 * commands that run an application refuse it and `validate` says so.
 */
import type { ApplicationConfig } from './types.js';

export function unavailableBackends(app: ApplicationConfig): string[] {
  const out: string[] = [];
  if (app.router.kind !== 'builtin')
    out.push(`router kind ${app.router.kind} is not available yet: only the builtin router runs`);
  if (app.metrics.kind !== 'builtin')
    out.push(`metrics kind ${app.metrics.kind} is not available yet: only the builtin metrics run`);
  if (!app.store.url.startsWith('sqlite:'))
    out.push('a PostgreSQL store is not available yet: use store.url sqlite:PATH');
  return out;
}
