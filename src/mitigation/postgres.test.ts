import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MitigationConfig } from '../config/types.js';
import { freePort } from '../runtime/process/ports.js';
import { MitigationRunner } from './runner.js';

/** The server binaries of the installed PostgreSQL (Debian keeps them out of PATH). */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin');
  return null;
}

/** Runs a command as the `postgres` user (initdb refuses root). */
function asPostgres(command: string): void {
  execFileSync('su', ['postgres', '-c', command], { stdio: 'pipe' });
}

const bin = postgresBin();
const available = bin !== null && existsSync('/usr/bin/pg_dump') && existsSync('/usr/bin/psql');

/**
 * A private PostgreSQL on a free loopback port, its data in a temp dir (started and stopped here).
 * It asks for a password, as a production database would: pg_dump and pg_restore must get it.
 */
describe.skipIf(!available)('mitigations on a real PostgreSQL (pg_dump, pg_restore)', () => {
  const root = mkdtempSync(join(tmpdir(), 'augur-pg-'));
  const data = join(root, 'data');
  const password = 'p@ss word';
  let url = '';
  const psql = (sql: string): string =>
    execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { encoding: 'utf8' }).trim();

  beforeAll(async () => {
    const port = await freePort();
    chmodSync(root, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(root, uid, gid);
    const pwfile = join(root, 'pw');
    writeFileSync(pwfile, `${password}\n`);
    chownSync(pwfile, uid, gid);
    asPostgres(
      `${join(bin ?? '', 'initdb')} -D ${data} -U postgres --auth=scram-sha-256 --pwfile=${pwfile} --no-sync`,
    );
    asPostgres(
      `${join(bin ?? '', 'pg_ctl')} -D ${data} -l ${join(root, 'log')} -o "-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off" -w start`,
    );
    url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    psql('CREATE TABLE items (id serial PRIMARY KEY, bad boolean NOT NULL)');
    psql('INSERT INTO items (bad) SELECT false FROM generate_series(1, 50)');
  }, 60_000);

  afterAll(() => {
    try {
      asPostgres(`${join(bin ?? '', 'pg_ctl')} -D ${data} -m immediate -w stop`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('dumps before, finds the damage, restores with pg_restore and verifies', async () => {
    const mitigation: MitigationConfig = {
      name: 'items',
      backup: { postgres: url },
      check: {
        command: [
          'psql',
          url,
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          "DO $$ BEGIN IF (SELECT count(*) FROM items WHERE bad) > 0 THEN RAISE EXCEPTION 'bad items'; END IF; END $$",
        ],
      },
      restore: 'auto',
    };
    const runner = new MitigationRunner({ stateDir: join(root, 'state'), baseDir: root });
    const [backup] = await runner.backup('pg-release', [mitigation], Date.UTC(2026, 10, 27));
    expect(backup?.path).toMatch(/items-.*\.dump$/);
    expect((await runner.check([mitigation]))[0]?.ok).toBe(true);
    psql('INSERT INTO items (bad) VALUES (true), (true)');
    const failed = await runner.check([mitigation]);
    expect(failed[0]?.ok).toBe(false);
    expect(failed[0]?.detail).toMatch(/bad items/);
    expect(failed[0]?.detail).not.toContain(encodeURIComponent(password));
    const restored = await runner.restore([mitigation], backup === undefined ? [] : [backup]);
    expect(restored[0]?.ok).toBe(true);
    expect((await runner.check([mitigation]))[0]?.ok).toBe(true);
    expect(psql('SELECT count(*) FROM items')).toBe('50');
  }, 60_000);
});
