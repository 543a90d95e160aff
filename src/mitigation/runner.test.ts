import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { MitigationConfig } from '../config/types.js';
import { shopOrders } from '../testing/shop-orders.js';
import { MitigationRunner } from './runner.js';

const repo = resolve(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(): { state: string; data: string; runner: MitigationRunner; mitigation: MitigationConfig } {
  const root = mkdtempSync(join(tmpdir(), 'augur-mitigation-'));
  dirs.push(root);
  const data = join(root, 'orders.db');
  const mitigation: MitigationConfig = {
    name: 'restore-orders-db',
    backup: { sqlite: data },
    check: { command: [process.execPath, join(repo, 'examples/shop/check-orders.js'), data] },
    restore: 'auto',
  };
  return {
    state: join(root, 'state'),
    data,
    runner: new MitigationRunner({ stateDir: join(root, 'state'), baseDir: root, keep: 3 }),
    mitigation,
  };
}

describe('mitigations on a real SQLite database', () => {
  it('backs up before, finds the corruption a bad revision wrote, restores under a live writer and verifies', async () => {
    const { data, runner, mitigation } = setup();
    const { db, write } = await shopOrders(data);
    try {
      write(20, false);
      const [backup] = await runner.backup('payments-v2', [mitigation], Date.UTC(2026, 10, 27, 12));
      expect(backup?.path).toMatch(
        /backups\/payments-v2\/restore-orders-db-2026-11-27T12-00-00-000Z-[0-9a-f]{6}\.sqlite$/,
      );
      const sound = await runner.check([mitigation]);
      expect(sound.map((r) => [r.name, r.ok])).toEqual([['restore-orders-db', true]]);
      expect(sound[0]?.detail).toMatch(/20 orders verified/);
      // The bad revision writes corrupt rows; the connection stays open, as payments' would.
      write(5, true);
      const failed = await runner.check([mitigation]);
      expect(failed[0]?.ok).toBe(false);
      expect(failed[0]?.detail).toMatch(/5 of 25 orders are corrupt/);
      const restored = await runner.restore([mitigation], backup === undefined ? [] : [backup]);
      expect(restored[0]).toMatchObject({ ok: true });
      expect(await runner.check([mitigation])).toMatchObject([{ ok: true }]);
      // The live connection sees the restored rows, and can go on writing.
      expect(db.prepare('SELECT COUNT(*) AS n FROM orders').get()).toEqual({ n: 20 });
      write(1, false);
      const again = await runner.check([mitigation]);
      expect(again[0]?.ok).toBe(true);
      expect(again[0]?.detail).toMatch(/21 orders/);
    } finally {
      db.close();
    }
  });

  it('never overwrites a backup, keeps the newest few, and says when a restore cannot be done', async () => {
    const { data, state, runner, mitigation } = setup();
    const { db, write } = await shopOrders(data);
    try {
      write(3, false);
      const at = Date.UTC(2026, 10, 27, 12);
      const taken = [];
      for (let i = 0; i < 5; i++) {
        const before = taken.filter((p) => existsSync(p));
        const [record] = await runner.backup(`r${i % 2}`, [mitigation], at);
        if (record === undefined) throw new Error('no backup');
        expect(before).not.toContain(record.path);
        // Older first, as if taken over several minutes.
        utimesSync(record.path, new Date(at + i * 60_000), new Date(at + i * 60_000));
        taken.push(record.path);
      }
      const kept =
        readdirSync(join(state, 'backups', 'r0')).length + readdirSync(join(state, 'backups', 'r1')).length;
      expect(kept).toBe(3);
      expect(existsSync(taken[4] ?? '')).toBe(true);
      expect(existsSync(taken[0] ?? '')).toBe(false);
      // Another mitigation whose name starts with this one's keeps its files.
      const other = join(
        state,
        'backups',
        'r0',
        `${mitigation.name}-copy-2020-01-01T00-00-00-000Z-abcdef.sqlite`,
      );
      writeFileSync(other, '');
      utimesSync(other, new Date(0), new Date(0));
      await runner.backup('r0', [mitigation], at);
      expect(existsSync(other)).toBe(true);
      const gone = await runner.restore(
        [mitigation],
        [{ name: mitigation.name, path: taken[0] ?? '', takenAt: at }],
      );
      expect(gone[0]?.ok).toBe(false);
      expect(gone[0]?.detail).toMatch(/is gone/);
      await expect(
        runner.backup('r9', [{ ...mitigation, backup: { sqlite: join(state, 'missing.db') } }], at),
      ).rejects.toThrow(/no SQLite database/);
      const http = await runner.check([
        { name: 'probe', check: { http: 'http://127.0.0.1:9/health' }, restore: 'manual' },
      ]);
      expect(http[0]).toMatchObject({ name: 'probe', ok: false });
    } finally {
      db.close();
    }
  });
});

/**
 * Stand-ins for pg_dump and pg_restore, first on PATH: each records its arguments and the
 * environment it was given, then succeeds, or fails as libpq does when the database is `down`.
 */
function fakePostgresTools(root: string): { log: string; bin: string } {
  const bin = join(root, 'bin');
  const log = join(root, 'calls.jsonl');
  mkdirSync(bin);
  const script = `#!${process.execPath}
const { appendFileSync, writeFileSync } = require('node:fs');
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(log)}, JSON.stringify({
  args,
  password: process.env.PGPASSWORD ?? null,
  token: process.env.AUGUR_TOKEN ?? null,
}) + '\\n');
if (args.some((a) => a.includes('/down'))) {
  console.error('pg: connection to server failed: FATAL: database "down" does not exist');
  process.exit(1);
}
const file = args.find((a) => a.startsWith('--file='));
if (args[0] === '--version') console.log('pg_restore (PostgreSQL) 15.8');
if (file !== undefined && file !== '--file=-') writeFileSync(file.slice('--file='.length), 'dump');
`;
  for (const name of ['pg_dump', 'pg_restore']) {
    writeFileSync(join(bin, name), script);
    chmodSync(join(bin, name), 0o755);
  }
  return { log, bin };
}

describe('what mitigation commands are given and what their failures say', () => {
  const saved = { path: process.env['PATH'], token: process.env['AUGUR_TOKEN'] };
  afterEach(() => {
    process.env['PATH'] = saved.path;
    if (saved.token === undefined) delete process.env['AUGUR_TOKEN'];
    else process.env['AUGUR_TOKEN'] = saved.token;
  });

  it('gives pg_dump and pg_restore the password through PGPASSWORD, never on the command line', async () => {
    const root = mkdtempSync(join(tmpdir(), 'augur-mitigation-'));
    dirs.push(root);
    const { log, bin } = fakePostgresTools(root);
    process.env['PATH'] = `${bin}:${saved.path ?? ''}`;
    process.env['AUGUR_TOKEN'] = 'augur_operator-secret';
    const runner = new MitigationRunner({ stateDir: join(root, 'state'), baseDir: root });
    const url = 'postgresql://app:s3%40cret@127.0.0.1:5432/orders?sslmode=disable';
    const mitigation: MitigationConfig = { name: 'orders', backup: { postgres: url }, restore: 'auto' };
    const [backup] = await runner.backup('r1', [mitigation], Date.UTC(2026, 10, 27));
    const restored = await runner.restore([mitigation], backup === undefined ? [] : [backup]);
    expect(restored[0]).toMatchObject({ ok: true });
    const calls = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { args: string[]; password: string | null; token: string | null });
    // The backup; before the restore, a copy of the live database; the restore; then the backup
    // and the copy read back to count what the restore discarded.
    expect(calls).toHaveLength(6);
    const bare = 'postgresql://app@127.0.0.1:5432/orders?sslmode=disable';
    expect(calls[0]?.args).toContain(bare);
    expect(calls[1]?.args).toContain(bare);
    expect(calls[1]?.args.join(' ')).toMatch(/--file=.*-replaced-[0-9a-f]{6}\.dump\.partial/);
    expect(calls[2]?.args).toContain(`--dbname=${bare}`);
    expect(calls[3]?.args).toEqual(['--version']);
    expect(calls[4]?.args).toEqual(['--data-only', '--file=-', backup?.path]);
    expect(calls[5]?.args.at(-1)).toMatch(/-replaced-[0-9a-f]{6}\.dump$/);
    for (const [i, call] of calls.entries()) {
      expect(call.args.join(' ')).not.toMatch(/s3/);
      // Only the commands that connect get the password.
      expect(call.password).toBe(i < 3 ? 's3@cret' : null);
      // Nor does a mitigation command act on the API with the operator's token.
      expect(call.token).toBeNull();
    }
    expect(restored[0]?.discarded).toMatchObject({ rows: 0, reverted: 0 });

    const down: MitigationConfig = {
      name: 'down',
      backup: { postgres: 'postgres://app:s3cret@127.0.0.1/down' },
      restore: 'auto',
    };
    const failure = await runner.backup('r2', [down], Date.UTC(2026, 10, 27)).catch((e: unknown) => e);
    expect((failure as Error).message).toMatch(/pg_dump .*exited 1: pg: connection to server failed/);
    const failed = await runner.restore([down], [{ name: 'down', path: backup?.path ?? '', takenAt: 0 }]);
    expect(failed[0]).toMatchObject({ ok: false });
    expect(JSON.stringify([(failure as Error).message, failed])).not.toMatch(/s3cret/);
  });

  it('never repeats a password from a check’s command line or URL', async () => {
    const root = mkdtempSync(join(tmpdir(), 'augur-mitigation-'));
    dirs.push(root);
    const runner = new MitigationRunner({ stateDir: join(root, 'state'), baseDir: root });
    const results = await runner.check([
      {
        name: 'psql',
        check: {
          command: [
            process.execPath,
            '-e',
            'console.error(process.argv[1]); process.exit(2)',
            'postgres://app:s3cret@127.0.0.1/orders',
          ],
        },
        restore: 'manual',
      },
      {
        name: 'echoes',
        check: { command: [process.execPath, '-e', 'console.log("checked host=db password=s3cret")'] },
        restore: 'manual',
      },
      { name: 'probe', check: { http: 'http://probe:s3cret@127.0.0.1:9/health' }, restore: 'manual' },
    ]);
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ['psql', false],
      ['echoes', true],
      ['probe', false],
    ]);
    expect(results[0]?.detail).toMatch(/postgres:\/\/app:\*\*\*@127\.0\.0\.1\/orders exited 2/);
    expect(JSON.stringify(results)).not.toMatch(/s3cret/);
    // A backup command's failure travels to the release's events and the API as it is thrown.
    const backup = await runner
      .backup(
        'r1',
        [
          {
            name: 'dump',
            backup: {
              command: [process.execPath, '-e', 'process.exit(3)', 'postgres://app:s3cret@db/orders'],
            },
            restore: 'manual',
          },
        ],
        0,
      )
      .catch((error: unknown) => error as Error);
    expect((backup as Error).message).toMatch(/app:\*\*\*@db\/orders exited 3/);
  });
});

const mode = (path: string): number => statSync(path).mode & 0o777;
/** SQLite's files beside a database: a backup directory should never hold any once a step is done. */
const sidecars = (dir: string): string[] => readdirSync(dir).filter((f) => /-(wal|shm|journal)$/.test(f));
const ids = (path: string): Set<string> => {
  const db = new BetterSqlite(path, { readonly: true, fileMustExist: true });
  try {
    return new Set(db.prepare('SELECT order_id FROM orders').pluck().all() as string[]);
  } finally {
    db.close();
  }
};

describe('what a restore discards, and backups kept private', () => {
  it('writes backups 0600 in 0700 directories, in rollback-journal mode, leaving no -wal or -shm', async () => {
    const { data, state, runner, mitigation } = setup();
    const { db, write } = await shopOrders(data);
    try {
      write(5, false);
      const [backup] = await runner.backup('r1', [mitigation], Date.UTC(2026, 10, 27, 12));
      if (backup === undefined) throw new Error('no backup');
      expect(mode(backup.path)).toBe(0o600);
      expect(mode(join(state, 'backups'))).toBe(0o700);
      expect(mode(join(state, 'backups', 'r1'))).toBe(0o700);
      const copy = new BetterSqlite(backup.path, { readonly: true });
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      copy.close();
      write(2, true);
      await runner.check([mitigation]);
      await runner.restore([mitigation], [backup]);
      await runner.restore([mitigation], [backup]);
      expect(sidecars(join(state, 'backups', 'r1'))).toEqual([]);
      for (const file of readdirSync(join(state, 'backups', 'r1')))
        expect(mode(join(state, 'backups', 'r1', file)), file).toBe(0o600);
    } finally {
      db.close();
    }
  });

  it('says how many rows written since the backup it discards, and keeps them in a copy', async () => {
    const { data, state, runner, mitigation } = setup();
    const { db, write } = await shopOrders(data);
    try {
      write(20, false);
      const takenAt = Date.UTC(2026, 10, 27, 12, 0, 5);
      const [backup] = await runner.backup('r1', [mitigation], takenAt);
      if (backup === undefined) throw new Error('no backup');
      // After the backup: 7 sound orders beside 3 corrupt ones, and one order of before deleted.
      write(7, false);
      write(3, true);
      db.prepare("DELETE FROM orders WHERE order_id = 'o-0'").run();
      const before = ids(data);
      const [result] = await runner.restore([mitigation], [backup]);
      expect(result).toMatchObject({ name: 'restore-orders-db', ok: true });
      expect(result?.discarded).toMatchObject({
        since: takenAt,
        rows: 10,
        reverted: 1,
        tables: { orders: 10 },
        note: null,
      });
      expect(result?.detail).toMatch(
        /restored from .*; 10 rows written or changed since the backup \(12:00:05 UTC\) discarded \(orders 10\); 1 row deleted or changed since put back; the data before the restore kept in .*-replaced-[0-9a-f]{6}\.sqlite$/,
      );
      const kept = result?.discarded?.kept ?? [];
      expect(kept).toHaveLength(1);
      expect(dirname(kept[0] ?? '')).toBe(join(state, 'backups', 'r1'));
      // The copy is the data as it stood just before the restore: the sound later orders are there.
      expect(ids(kept[0] ?? '')).toEqual(before);
      expect(mode(kept[0] ?? '')).toBe(0o600);
      expect(db.prepare('SELECT COUNT(*) FROM orders').pluck().get()).toBe(20);

      // A second restore of the same backup (another round, or one run again after a crash)
      // counts what the first discarded too: the figure is what restoring this backup cost.
      write(4, false);
      const [again] = await runner.restore([mitigation], [backup]);
      expect(again?.discarded).toMatchObject({ rows: 14, reverted: 0 });
      expect(again?.discarded?.kept).toHaveLength(2);
    } finally {
      db.close();
    }
  });

  it('misses no write of a live writer: every committed row is restored or counted in the kept copy', async () => {
    const { data, runner, mitigation } = setup();
    const { db, write } = await shopOrders(data);
    write(50, false);
    db.close();
    const [backup] = await runner.backup('r1', [mitigation], Date.UTC(2026, 10, 27, 12));
    if (backup === undefined) throw new Error('no backup');
    // Another process writes orders as fast as it can and prints each one once committed.
    const writer = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        [
          "import { createRequire } from 'node:module';",
          `const Database = createRequire(${JSON.stringify(join(repo, 'package.json'))})('better-sqlite3');`,
          `const db = new Database(${JSON.stringify(data)});`,
          "db.pragma('busy_timeout = 5000');",
          "const insert = db.prepare(\"INSERT INTO orders (order_id, user_key, amount_cents, version, created_at, checksum) VALUES (?, 'w', 100, 'v2', 0, 'x')\");",
          'let n = 0;',
          "process.on('SIGTERM', () => { db.close(); process.exit(0); });",
          'const tick = () => { for (let i = 0; i < 5; i++) { const id = `w-${n++}`; insert.run(id); process.stdout.write(`${id}\\n`); } setImmediate(tick); };',
          'tick();',
        ].join('\n'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    writer.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise((done) => writer.on('exit', done));
    try {
      while (out.split('\n').length < 200) await sleep(10);
      const [result] = await runner.restore([mitigation], [backup]);
      const restoredAt = out.split('\n').length;
      while (out.split('\n').length < restoredAt + 100) await sleep(10);
      writer.kill('SIGTERM');
      await exited;
      const committed = out.split('\n').filter((l) => l.startsWith('w-'));
      const now = ids(data);
      expect(result?.discarded?.note ?? null, JSON.stringify(result)).toBeNull();
      const kept = ids(result?.discarded?.kept[0] ?? '');
      const lost = committed.filter((id) => !now.has(id) && !kept.has(id));
      expect(lost).toEqual([]);
      // The count is exactly the copy's rows the backup did not hold.
      expect(result?.discarded?.rows).toBe([...kept].filter((id) => id.startsWith('w-')).length);
      expect(result?.discarded?.rows).toBeGreaterThan(0);
    } finally {
      writer.kill('SIGKILL');
    }
  }, 30_000);

  it('waits for a writer that holds the lock, rather than end having restored nothing', async () => {
    const { data, runner, mitigation } = setup();
    const { db, write } = await shopOrders(data);
    try {
      write(10, false);
      const [backup] = await runner.backup('r1', [mitigation], 0);
      if (backup === undefined) throw new Error('no backup');
      write(5, true);
      // A writer in the middle of a transaction when the restore starts: it commits 300 ms later.
      db.exec('BEGIN IMMEDIATE');
      write(1, false);
      const committing = sleep(300).then(() => db.exec('COMMIT'));
      const [result] = await runner.restore([mitigation], [backup]);
      await committing;
      expect(result).toMatchObject({ ok: true, discarded: { rows: 6 } });
      expect(db.prepare('SELECT COUNT(*) FROM orders').pluck().get()).toBe(10);
      expect(await runner.check([mitigation])).toMatchObject([{ ok: true }]);
    } finally {
      db.close();
    }
  });

  it('cleans the -wal and -shm a backup taken in WAL mode grew, and retention counts databases only', async () => {
    const { data, state, runner, mitigation } = setup();
    const { db, write } = await shopOrders(data);
    try {
      write(3, false);
      // A backup as earlier versions wrote them: a copy still in WAL mode.
      const dir = join(state, 'backups', 'old');
      mkdirSync(dir, { recursive: true });
      const legacy = join(dir, 'restore-orders-db-2026-01-01T00-00-00-000Z-abcdef.sqlite');
      await db.backup(legacy);
      write(2, false);
      const [result] = await runner.restore(
        [mitigation],
        [{ name: mitigation.name, path: legacy, takenAt: 0 }],
      );
      expect(result).toMatchObject({ ok: true, discarded: { rows: 2 } });
      expect(sidecars(dir)).toEqual([]);
      // Stray files beside a backup are neither counted as backups nor left behind by retention.
      writeFileSync(`${legacy}-shm`, '');
      for (let i = 0; i < 3; i++) await runner.backup(`r${i}`, [mitigation], Date.UTC(2026, 10, 27, 12, i));
      const left = ['old', 'r0', 'r1', 'r2'].flatMap((r) =>
        existsSync(join(state, 'backups', r)) ? readdirSync(join(state, 'backups', r)) : [],
      );
      expect(left.filter((f) => !/-(wal|shm)$/.test(f))).toHaveLength(3);
      expect(left.filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('restores a rollback-journal database too, counting just before', async () => {
    const { data, runner, mitigation } = setup();
    const plain = new BetterSqlite(data);
    plain.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)');
    plain.prepare("INSERT INTO items (v) VALUES ('a'), ('b')").run();
    const [backup] = await runner.backup('r1', [mitigation], 0);
    if (backup === undefined) throw new Error('no backup');
    plain.prepare("UPDATE items SET v = 'changed' WHERE id = 1").run();
    plain.exec('CREATE TABLE later (x)');
    plain.prepare('INSERT INTO later VALUES (1), (2)').run();
    plain.close();
    const noCheck: MitigationConfig = { name: mitigation.name, backup: { sqlite: data }, restore: 'auto' };
    const [result] = await runner.restore([noCheck], [backup]);
    expect(result?.discarded).toMatchObject({ rows: 3, reverted: 1, tables: { items: 1, later: 2 } });
    expect(result?.discarded?.note).toMatch(/counted just before the restore/);
    // A database gone since the backup is made again: nothing of it was there to discard.
    rmSync(data);
    const [remade] = await runner.restore([noCheck], [backup]);
    expect(remade?.discarded).toMatchObject({ rows: 0, reverted: 0, note: null });
    expect(existsSync(data)).toBe(true);
  });

  it('says a command restore discards what came after the backup, uncounted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'augur-mitigation-'));
    dirs.push(root);
    const runner = new MitigationRunner({ stateDir: join(root, 'state'), baseDir: root });
    const m: MitigationConfig = {
      name: 'files',
      backup: { command: [process.execPath, '-e', 'process.exit(0)'] },
      restore: 'auto',
    };
    const [backup] = await runner.backup('r1', [m], Date.UTC(2026, 10, 27, 12, 30));
    if (backup === undefined) throw new Error('no backup');
    expect(mode(backup.path)).toBe(0o700);
    const [result] = await runner.restore([m], [backup]);
    expect(result?.discarded).toMatchObject({ rows: null, kept: [] });
    expect(result?.detail).toMatch(
      /what was written since the backup \(12:30:00 UTC\) is discarded, not counted \(a backup command restores are not counted\)/,
    );
  });
});
