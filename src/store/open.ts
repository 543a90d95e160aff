import { isAbsolute, resolve } from 'node:path';
import { AugurError } from '../core/errors.js';
import { redactSecrets } from '../core/redact.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** The file of a `sqlite:PATH` store URL (relative paths from `baseDir`); null for any other store. */
export function storeFile(url: string, baseDir: string = process.cwd()): string | null {
  if (!url.startsWith('sqlite:')) return null;
  const path = url.slice('sqlite:'.length);
  if (path === ':memory:') return null;
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/**
 * Opens the store named by a URL: `sqlite:PATH` (relative paths from the working directory),
 * `sqlite::memory:`.
 * `postgres://…` is part of the contract; its adapter is not built yet and says so.
 */
export function openStore(url: string, baseDir: string = process.cwd()): Store {
  if (url.startsWith('sqlite:')) return new SqliteStore(storeFile(url, baseDir) ?? ':memory:');
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    throw new AugurError('STORE_UNSUPPORTED', 'the PostgreSQL store is not available yet: use sqlite:PATH');
  }
  throw new AugurError(
    'STORE_URL_INVALID',
    `unknown store URL scheme in "${redactSecrets(url)}" (expected sqlite:PATH)`,
  );
}
