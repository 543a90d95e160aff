import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { copiesOf } from './copies.js';

/** What a restore replaced, as the runner reports it (the backup's time added). */
export interface Replaced {
  readonly rows: number | null;
  readonly reverted: number | null;
  readonly tables: Readonly<Record<string, number>>;
  readonly kept: readonly string[];
  readonly note: string | null;
}

/** Creates `path` empty and readable by its owner only: what SQLite then writes into it stays private. */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, 'wx', 0o600));
}

/**
 * A page-for-page copy of a live database through the online backup API (a consistent snapshot
 * that does not stop its writers), into `partial`, created 0600. The copy carries the source's
 * journal mode: a WAL database's copy would grow `-wal` and `-shm` files beside it whenever it is
 * opened, so it is switched to rollback-journal mode, which leaves none.
 */
export async function backupSqlite(source: string, partial: string): Promise<void> {
  createPrivateFile(partial);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    await copyPages(db, source, partial);
  } finally {
    db.close();
  }
  const copy = new Database(partial, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}

/**
 * Copies the backup over the live database (the backup API, under the target's locks: its readers
 * and writers see either the old or the restored content), and says what that discards: the rows
 * written or changed since the backup, counted table by table, and a copy of the data as it stood
 * just before the restore, kept beside the backup (0600), so that sound rows written meanwhile can
 * be recovered from it.
 *
 * For a WAL database, the count and the copy are taken once the restore holds the write lock and
 * before it copies a page: writers wait, readers still see the old content, so nothing written is
 * missed. A rollback-journal database cannot be read under that lock: it is counted just before.
 * Rows an earlier restore of the same backup discarded (one interrupted by a crash, or an earlier
 * round) are counted again from its copy, so the figure is what every restore of it discarded.
 */
export async function restoreSqlite(target: string, backup: string): Promise<Replaced> {
  const earlier = copiesOf(backup, '.sqlite');
  const copy = copyPath(backup);
  let replaced: Replaced | null = null;
  const measure = (): void => {
    try {
      replaced = measureAndKeep(target, backup, earlier, copy);
    } catch (error) {
      replaced = {
        rows: null,
        reverted: null,
        tables: {},
        kept: earlier,
        note: `not counted: ${(error as Error).message}`,
      };
    }
  };
  const existed = existsSync(target);
  const wal = existed && journalMode(target) === 'wal';
  if (existed && !wal) measure();
  const source = new Database(backup, { readonly: true, fileMustExist: true });
  try {
    await copyPages(source, backup, target, () => {
      if (wal) measure();
    });
  } finally {
    source.close();
    removeSidecars(backup);
  }
  const result: Replaced =
    replaced ??
    (wal
      ? {
          rows: null,
          reverted: null,
          tables: {},
          kept: earlier,
          note: 'not counted: the backup has no pages',
        }
      : { rows: 0, reverted: 0, tables: {}, kept: earlier, note: null });
  if (existed && !wal && result.rows !== null)
    return {
      ...result,
      note: 'counted just before the restore (rollback-journal mode): rows written in between are not counted',
    };
  return result;
}

/** How long a copy waits for a database that other connections keep locked. */
const LOCKED_FOR_MS = 30_000;

/**
 * Copies every page of `from` (opened on `fromPath`) to `to`, calling `locked` once the copy holds
 * the destination's write lock, before the first page. better-sqlite3 ends a backup whose first
 * step found the destination (or source) locked as if it were complete, having copied nothing (the
 * page count is still 0 then): such a run is tried again, backing off, for up to 30 s.
 */
async function copyPages(
  from: Database.Database,
  fromPath: string,
  to: string,
  locked?: () => void,
): Promise<void> {
  const deadline = Date.now() + LOCKED_FOR_MS;
  for (let attempt = 0; ; attempt++) {
    let stepped = false;
    const done = await from.backup(to, {
      progress: () => {
        if (!stepped) locked?.();
        stepped = true;
        return 100;
      },
    });
    if (done.totalPages > 0 || statSync(fromPath).size === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${to} stayed locked for ${LOCKED_FOR_MS / 1000} s: nothing copied`);
    await sleep(Math.min(250, 5 * 2 ** attempt));
  }
}

/**
 * Removes the `-wal` and `-shm` files that opening a WAL-mode file leaves (backups taken before
 * they were switched to rollback-journal mode). Only when the `-wal` holds nothing: no connection
 * may have the file open.
 */
export function removeSidecars(path: string): void {
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) return;
  rmSync(wal, { force: true });
  rmSync(`${path}-shm`, { force: true });
}

/** The files SQLite keeps beside a database, which belong to it (retention counts them with it). */
export function isSidecar(file: string): boolean {
  return /-(wal|shm|journal)$/.test(file);
}

function journalMode(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('journal_mode', { simple: true })).toLowerCase();
  } finally {
    db.close();
  }
}

/** Where copies of the data before a restore of `backup` go: beside it, named after it. */
function copyPath(backup: string): string {
  return join(dirname(backup), `${stem(backup)}-replaced-${randomBytes(3).toString('hex')}.sqlite`);
}

function stem(path: string): string {
  return basename(path).replace(/\.sqlite$/, '');
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Ordinary tables of a schema (SQLite's own and virtual ones left out), each with its columns. */
function tablesOf(db: Database.Database, schema: string): Map<string, string> {
  const names = db
    .prepare(
      `SELECT name FROM ${quote(schema)}.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND sql NOT LIKE 'CREATE VIRTUAL%'`,
    )
    .pluck()
    .all() as string[];
  const columns = db.prepare('SELECT name FROM pragma_table_info(?, ?)').pluck();
  return new Map(names.map((name) => [name, (columns.all(name, schema) as string[]).join('\u0000')]));
}

/**
 * Counts, against the backup, the rows of the target (and of earlier copies) that the backup does
 * not hold — rows compared whole, so a changed row counts as written — and the rows of the backup
 * the target no longer holds; then copies the target (VACUUM INTO, 0600).
 */
function measureAndKeep(target: string, backup: string, earlier: readonly string[], copy: string): Replaced {
  const db = new Database(target, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('ATTACH DATABASE ? AS augur_backup').run(backup);
    earlier.forEach((path, i) => db.prepare(`ATTACH DATABASE ? AS augur_before_${i}`).run(path));
    const live = tablesOf(db, 'main');
    const saved = tablesOf(db, 'augur_backup');
    const before = earlier.map((_, i) => tablesOf(db, `augur_before_${i}`));
    const count = (sql: string): number =>
      db.prepare(`SELECT COUNT(*) FROM (${sql})`).pluck().get() as number;
    const tables: Record<string, number> = {};
    let rows = 0;
    let reverted = 0;
    for (const [name, columns] of live) {
      const t = quote(name);
      const sources = [
        `SELECT * FROM main.${t}`,
        ...before.flatMap((b, i) =>
          b.get(name) === columns ? [`SELECT * FROM augur_before_${i}.${t}`] : [],
        ),
      ].join(' UNION ');
      const same = saved.get(name) === columns;
      const written = count(same ? `${sources} EXCEPT SELECT * FROM augur_backup.${t}` : sources);
      if (same) reverted += count(`SELECT * FROM augur_backup.${t} EXCEPT SELECT * FROM main.${t}`);
      else if (saved.has(name)) reverted += count(`SELECT * FROM augur_backup.${t}`);
      if (written > 0) tables[name] = written;
      rows += written;
    }
    for (const name of saved.keys())
      if (!live.has(name)) reverted += count(`SELECT * FROM augur_backup.${quote(name)}`);
    const partial = `${copy}.partial`;
    createPrivateFile(partial);
    db.prepare('VACUUM main INTO ?').run(partial);
    renameSync(partial, copy);
    return { rows, reverted, tables, kept: [...earlier, copy], note: null };
  } finally {
    db.close();
  }
}
