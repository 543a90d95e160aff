import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MitigationConfig } from '../config/types.js';
import { freePort } from '../runtime/process/ports.js';
import { countDumpChanges } from './pg-compare.js';
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
    psql('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
    psql("INSERT INTO notes (body) VALUES ('first')");
    psql("CREATE TABLE tags (name text); INSERT INTO tags VALUES ('a')");
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
    // Since the backup: two harmful rows and two sound ones (one of two lines), a row changed, one deleted.
    psql('INSERT INTO items (bad) VALUES (true), (true), (false)');
    psql("INSERT INTO notes (body) VALUES ('line one\nline two')");
    psql("UPDATE notes SET body = 'changed' WHERE id = 1");
    psql('DELETE FROM items WHERE id = 9');
    // Rows repeated in a table without a key are one row; a table created since is not restored
    // away (pg_restore drops what the backup holds), so every later copy holds it again.
    psql("INSERT INTO tags VALUES ('a'), ('a')");
    psql('CREATE TABLE extra (x int); INSERT INTO extra VALUES (1)');
    const failed = await runner.check([mitigation]);
    expect(failed[0]?.ok).toBe(false);
    expect(failed[0]?.detail).toMatch(/bad items/);
    expect(failed[0]?.detail).not.toContain(encodeURIComponent(password));
    const restored = await runner.restore([mitigation], backup === undefined ? [] : [backup]);
    expect(restored[0]?.ok).toBe(true);
    expect((await runner.check([mitigation]))[0]?.ok).toBe(true);
    expect(psql('SELECT count(*) FROM items')).toBe('50');
    expect(psql('SELECT body FROM notes')).toBe('first');

    // What the restore threw away is counted (rows written or changed; rows put back) and kept.
    const discarded = restored[0]?.discarded;
    expect(discarded).toMatchObject({ rows: 6, reverted: 2, tables: { items: 3, notes: 2, extra: 1 } });
    expect(restored[0]?.detail).toMatch(
      /6 rows written or changed since the backup .* discarded \(extra 1, items 3, notes 2\); 2 rows deleted or changed since put back; the data before the restore kept in .*items-.*-replaced-[0-9a-f]{6}\.dump/,
    );
    const kept = discarded?.kept[0] ?? '';
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(restored[0]?.detail).not.toContain(encodeURIComponent(password));
    // The copy holds the data as it was: restored into the database, the harm is back.
    execFileSync(
      'pg_restore',
      ['--clean', '--if-exists', `--dbname=${url.replace(encodeURIComponent(password) + '@', '@')}`, kept],
      {
        env: { ...process.env, PGPASSWORD: password },
      },
    );
    expect(psql('SELECT count(*) FROM items WHERE bad')).toBe('2');
    expect(psql('SELECT count(*) FROM items')).toBe('52');

    // A database too large to compare in memory is restored all the same, not counted.
    await expect(countDumpChanges(backup?.path ?? '', [kept], { maxRows: 20 })).rejects.toThrow(
      /more than 20 distinct rows to compare/,
    );

    // A second restore of the same backup counts what both discarded, and keeps both copies.
    const again = await runner.restore([mitigation], backup === undefined ? [] : [backup]);
    expect(again[0]?.discarded).toMatchObject({
      rows: 6,
      reverted: 2,
      tables: { items: 3, notes: 2, extra: 1 },
    });
    expect(again[0]?.discarded?.kept).toHaveLength(2);
    expect(again[0]?.discarded?.kept[0]).toBe(kept);
  }, 60_000);
});
