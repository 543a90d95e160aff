import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStoreContract } from '../store-contract.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'augur-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
let last = '';

runStoreContract(
  'sqlite',
  () => {
    last = join(dir, `db-${n++}.sqlite`);
    return new SqliteStore(last);
  },
  () => new SqliteStore(last),
);

describe('SqliteStore files', () => {
  const mode = (path: string): number => statSync(path).mode & 0o777;

  it('creates its directory 0700 and its database, WAL and shared-memory files 0600', async () => {
    const previous = process.umask(0o022);
    try {
      const path = join(dir, 'private', 'state', 'augur.db');
      const store = new SqliteStore(path);
      await store.saveTraffic({
        service: 's',
        stableRevision: null,
        canaryRevision: null,
        canaryWeight: 0,
        updatedAt: 1,
      });
      expect(mode(join(dir, 'private'))).toBe(0o700);
      expect(mode(join(dir, 'private', 'state'))).toBe(0o700);
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        expect(existsSync(file), file).toBe(true);
        expect(mode(file), file).toBe(0o600);
      }
      await store.close();
    } finally {
      process.umask(previous);
    }
  });

  it('narrows a database file an earlier run left readable by others', async () => {
    const path = join(dir, 'wide.db');
    writeFileSync(path, '', { mode: 0o644 });
    const store = new SqliteStore(path);
    expect(mode(path)).toBe(0o600);
    await store.close();
  });
});
