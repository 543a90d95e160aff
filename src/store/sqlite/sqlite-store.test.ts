import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
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
