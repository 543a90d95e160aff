import { isAbsolute, resolve } from 'node:path';
import { AugurError } from '../core/errors.js';
import { redactSecrets } from '../core/redact.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/**
 * Opens the store named by a URL: `sqlite:PATH` (relative paths from the working directory),
 * `sqlite::memory:`.
 * `postgres://…` is part of the contract; its adapter is not built yet and says so.
 */
export function openStore(url: string, baseDir: string = process.cwd()): Store {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === ':memory:') return new SqliteStore(':memory:');
    return new SqliteStore(isAbsolute(path) ? path : resolve(baseDir, path));
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    throw new AugurError('STORE_UNSUPPORTED', 'the PostgreSQL store is not available yet: use sqlite:PATH');
  }
  throw new AugurError(
    'STORE_URL_INVALID',
    `unknown store URL scheme in "${redactSecrets(url)}" (expected sqlite:PATH)`,
  );
}
