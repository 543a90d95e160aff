import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { MitigationConfig } from '../config/types.js';
import type { BackupRecord, DiscardedChanges, Mitigator, StepResult } from '../controller/mitigator.js';
import { describeDiscarded } from '../controller/core/mitigation.js';
import { inheritedEnv } from '../core/child-env.js';
import { redactSecrets } from '../core/redact.js';
import { narrowToOwner, privateDir } from '../store/private-files.js';
import { copiesOf } from './copies.js';
import { countDumpChanges } from './pg-compare.js';
import { splitPassword } from './pg-connection.js';
import { backupSqlite, createPrivateFile, isSidecar, restoreSqlite } from './sqlite.js';

export type { BackupRecord, StepResult };

export interface MitigationRunnerOptions {
  /** Where backups go: `<stateDir>/backups/<release>/`. */
  readonly stateDir: string;
  /** Relative paths and commands resolve from here (where the application's revisions run). */
  readonly baseDir: string;
  /** Backups kept per mitigation name across releases, newest first; default 10. */
  readonly keep?: number;
  /** Longest a check, restore or backup command may run; default 120 s. */
  readonly timeoutMs?: number;
}

/**
 * Runs what a release's mitigations declare: a backup of each before the first tier (SQLite through
 * the online backup API, PostgreSQL with pg_dump, or a command), the checks after a rollback
 * (command exit 0 or HTTP 2xx), and the restores. Every step can run again with the same effect:
 * a check only reads, a restore copies the same backup over the same target. Backups are their
 * owner's only (files 0600, directories 0700): they hold the application's data.
 *
 * A restore puts the whole backup back: what the data received since — the harm and the sound
 * rows written beside it — is discarded. Each restore says so: for SQLite and PostgreSQL, how many
 * rows per table, with a copy of the data as it stood before the restore kept beside the backup.
 */
export class MitigationRunner implements Mitigator {
  private readonly options: Required<MitigationRunnerOptions>;

  constructor(options: MitigationRunnerOptions) {
    this.options = { keep: 10, timeoutMs: 120_000, ...options };
  }

  /** Takes every backup of the release; throws (after removing what it wrote) if one fails. */
  async backup(
    release: string,
    mitigations: readonly MitigationConfig[],
    now: number,
  ): Promise<BackupRecord[]> {
    privateDir(join(this.options.stateDir, 'backups'));
    const dir = join(this.options.stateDir, 'backups', safe(release));
    privateDir(dir);
    const taken: BackupRecord[] = [];
    try {
      for (const m of mitigations) {
        if (m.backup === undefined) continue;
        const target = uniquePath(dir, `${safe(m.name)}-${stamp(now)}`, extensionOf(m));
        const partial = `${target}.partial`;
        if ('sqlite' in m.backup) {
          const source = resolve(this.options.baseDir, m.backup.sqlite);
          if (!existsSync(source)) throw new Error(`no SQLite database at ${source} to back up`);
          await backupSqlite(source, partial);
        } else if ('postgres' in m.backup) {
          const { conn, password } = splitPassword(m.backup.postgres);
          createPrivateFile(partial);
          await this.run(['pg_dump', '--format=custom', `--file=${partial}`, conn], passwordEnv(password));
        } else {
          mkdirSync(partial, { recursive: true, mode: 0o700 });
          await this.run(m.backup.command, { AUGUR_MITIGATION: 'backup', AUGUR_BACKUP_PATH: partial });
        }
        // A backup exists only once complete: the rename is atomic, a crash leaves a `.partial`.
        renameSync(partial, target);
        // What a tool wrote itself (a command's directory, a file pg_dump replaced) is narrowed too.
        narrowToOwner(target, 'sqlite' in m.backup || 'postgres' in m.backup ? 0o600 : 0o700);
        taken.push({ name: m.name, path: target, takenAt: now });
        this.prune(m.name);
      }
    } catch (error) {
      for (const record of taken) rmSync(record.path, { recursive: true, force: true });
      throw error;
    }
    return taken;
  }

  /** Runs every check; a mitigation without one passes. */
  async check(mitigations: readonly MitigationConfig[]): Promise<StepResult[]> {
    const results: StepResult[] = [];
    for (const m of mitigations) {
      if (m.check === undefined) continue;
      try {
        if ('command' in m.check) {
          const out = await this.run(m.check.command, { AUGUR_MITIGATION: 'check' });
          const last = out.trim().split('\n').pop() ?? 'passed';
          results.push({ name: m.name, ok: true, detail: redactSecrets(last) });
        } else {
          const response = await fetch(m.check.http, { signal: AbortSignal.timeout(this.options.timeoutMs) });
          results.push({
            name: m.name,
            ok: response.ok,
            detail: `HTTP ${response.status} from ${redactSecrets(m.check.http)}`,
          });
        }
      } catch (error) {
        results.push({ name: m.name, ok: false, detail: redactSecrets((error as Error).message) });
      }
    }
    return results;
  }

  /**
   * Restores each mitigation's backup over its target (SQLite online, pg_restore, or the command);
   * each result says what the restore discarded.
   */
  async restore(
    mitigations: readonly MitigationConfig[],
    backups: readonly BackupRecord[],
  ): Promise<StepResult[]> {
    const results: StepResult[] = [];
    for (const m of mitigations) {
      const record = backups.find((b) => b.name === m.name);
      if (m.backup === undefined || record === undefined) continue;
      try {
        if (!existsSync(record.path)) throw new Error(`the backup ${record.path} is gone`);
        if ('sqlite' in m.backup) {
          const target = resolve(this.options.baseDir, m.backup.sqlite);
          const replaced = await restoreSqlite(target, record.path);
          for (const copy of replaced.kept) narrowToOwner(copy, 0o600);
          const discarded: DiscardedChanges = { since: record.takenAt, ...replaced };
          results.push(restored(m.name, `${target} restored from ${record.path}`, discarded));
        } else if ('postgres' in m.backup) {
          const { conn, password } = splitPassword(m.backup.postgres);
          const copy = await this.keepPostgres(conn, password, record.path);
          try {
            await this.run(
              ['pg_restore', '--clean', '--if-exists', `--dbname=${conn}`, record.path],
              passwordEnv(password),
            );
          } catch (error) {
            // A restore that failed half way is when the copy matters most: the error names it.
            if ('path' in copy)
              throw new Error(
                `${(error as Error).message}; the data before the restore kept in ${copy.path}`,
              );
            throw error;
          }
          const discarded = await postgresDiscarded(record, copy, this.options.timeoutMs);
          results.push(restored(m.name, `restored from ${record.path}`, discarded));
        } else {
          await this.run(m.backup.command, { AUGUR_MITIGATION: 'restore', AUGUR_BACKUP_PATH: record.path });
          results.push(
            restored(m.name, `restored from ${record.path}`, uncounted(record.takenAt, 'a backup command')),
          );
        }
      } catch (error) {
        results.push({ name: m.name, ok: false, detail: redactSecrets((error as Error).message) });
      }
    }
    return results;
  }

  /**
   * Dumps the live database beside its backup just before a restore replaces it (0600): what the
   * restore discards stays recoverable, and can be counted. A dump that fails does not stop the
   * restore (removing the harm comes first): the result says why no copy was kept.
   */
  private async keepPostgres(
    conn: string,
    password: string | null,
    backup: string,
  ): Promise<{ path: string } | { failure: string }> {
    const path = uniquePath(dirname(backup), `${basename(backup, '.dump')}-replaced`, '.dump');
    const partial = `${path}.partial`;
    try {
      createPrivateFile(partial);
      await this.run(['pg_dump', '--format=custom', `--file=${partial}`, conn], passwordEnv(password));
      renameSync(partial, path);
      narrowToOwner(path, 0o600);
      return { path };
    } catch (error) {
      rmSync(partial, { force: true });
      return { failure: redactSecrets((error as Error).message) };
    }
  }

  /**
   * Keeps the newest `keep` files of a mitigation — backups and the copies restores kept — and
   * removes what crashes left half-written. SQLite's `-wal`, `-shm` and `-journal` files go with
   * their database and are not counted.
   */
  private prune(name: string): void {
    const root = join(this.options.stateDir, 'backups');
    // The name, then the backup's time: a mitigation `orders` must not count `orders-db`'s files.
    const own = new RegExp(`^${safe(name).replace(/[.]/g, '\\.')}-\\d{4}-\\d{2}-\\d{2}T`);
    const found: { path: string; mtime: number }[] = [];
    for (const release of readdirSync(root)) {
      const dir = join(root, release);
      for (const file of readdirSync(dir)) {
        if (!own.test(file) || isSidecar(file)) continue;
        const path = join(dir, file);
        if (file.endsWith('.partial')) {
          remove(path);
          continue;
        }
        found.push({ path, mtime: statSync(path).mtimeMs });
      }
    }
    found.sort((a, b) => b.mtime - a.mtime || b.path.localeCompare(a.path));
    for (const old of found.slice(this.options.keep)) remove(old.path);
  }

  /**
   * Runs a configured command (never a shell) in baseDir; rejects on a non-zero exit or timeout.
   * Its arguments and output may hold a connection string: the messages are redacted.
   */
  private run(command: readonly string[], env: Record<string, string>): Promise<string> {
    const [file, ...args] = command;
    if (file === undefined) return Promise.reject(new Error('empty command'));
    return new Promise((done, fail) => {
      const child = spawn(file, args, {
        cwd: this.options.baseDir,
        env: { ...inheritedEnv(process.env), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: this.options.timeoutMs,
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-4_096)));
      child.stderr.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-4_096)));
      child.on('error', (error) => fail(new Error(redactSecrets(error.message))));
      child.on('close', (code, signal) => {
        if (code === 0) done(out);
        else
          fail(new Error(redactSecrets(`${command.join(' ')} exited ${signal ?? code}: ${lastLine(out)}`)));
      });
    });
  }
}

/** A restore that worked: its detail says what it discarded. */
function restored(name: string, what: string, discarded: DiscardedChanges): StepResult {
  return { name, ok: true, detail: redactSecrets(`${what}; ${describeDiscarded(discarded)}`), discarded };
}

/**
 * What a PostgreSQL restore discarded: the rows of the copy dumped just before it (and of copies
 * earlier restores of the same backup kept) that the backup lacks, and the backup's rows it put back.
 */
async function postgresDiscarded(
  record: BackupRecord,
  copy: { path: string } | { failure: string },
  timeoutMs: number,
): Promise<DiscardedChanges> {
  if (!('path' in copy)) {
    return { ...uncounted(record.takenAt, 'PostgreSQL'), note: `no copy kept: ${copy.failure}` };
  }
  let kept = [copy.path];
  try {
    const earlier = copiesOf(record.path, '.dump').filter((path) => path !== copy.path);
    kept = [...earlier, copy.path];
    const counted = await countDumpChanges(record.path, kept, { timeoutMs });
    return {
      since: record.takenAt,
      ...counted,
      kept,
      note: 'counted from a dump taken just before the restore: rows written in between are not counted',
    };
  } catch (error) {
    return {
      ...uncounted(record.takenAt, 'PostgreSQL'),
      kept,
      note: redactSecrets((error as Error).message),
    };
  }
}

/** What a restore whose backup kind cannot compare rows discarded: everything since, uncounted. */
function uncounted(since: number, kind: string): DiscardedChanges {
  return {
    since,
    rows: null,
    reverted: null,
    tables: {},
    kept: [],
    note: `${kind} restores are not counted`,
  };
}

/** A backup or kept copy, with what SQLite keeps beside it. */
function remove(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`])
    rmSync(p, { recursive: true, force: true });
}

/** PGPASSWORD for pg_dump and pg_restore, when the connection string held a password. */
function passwordEnv(password: string | null): Record<string, string> {
  return password === null ? {} : { PGPASSWORD: password };
}

/** The last line worth showing of a command's output (Node's trailing version banner skipped). */
function lastLine(out: string): string {
  const lines = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Node\.js v\d/.test(l));
  return lines.at(-1) ?? '';
}

function extensionOf(m: MitigationConfig): string {
  if (m.backup === undefined) return '';
  if ('sqlite' in m.backup) return '.sqlite';
  if ('postgres' in m.backup) return '.dump';
  return '';
}

/**
 * A path no backup has had: the time and a random suffix, so backups never overwrite each other
 * and a name freed by retention is not given to a newer backup.
 */
function uniquePath(dir: string, base: string, extension: string): string {
  for (;;) {
    const path = join(dir, `${base}-${randomBytes(3).toString('hex')}${extension}`);
    if (!existsSync(path) && !existsSync(`${path}.partial`)) return path;
  }
}

function stamp(now: number): string {
  return new Date(now).toISOString().replace(/[:.]/g, '-');
}

function safe(name: string): string {
  return name.replace(/[^\w.-]/g, '_');
}
