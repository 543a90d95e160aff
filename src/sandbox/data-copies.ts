/**
 * Copies of the data files the sandbox's processes would write, so that they never touch the
 * production files. What is copied (see docs/sandbox.md):
 *
 * 1. The service's declared `data` files and `dataFiles[service][VAR] = path`: the file is copied
 *    and VAR points the service at the copy
 *    (a file that does not exist yet gets a fresh path in the sandbox).
 * 2. The SQLite file of every mitigation backup of the release (`backup: { sqlite: path }`).
 * 3. Any existing file an environment variable of a sandbox service names: in any revision's `env`
 *    (wherever the file is), or inherited from Augur's own environment (only files under the base
 *    directory, the repository; AUGUR_* and npm_* aside).
 *
 * A variable naming a copied file is set to the copy in every revision of its service (also in a
 * revision that does not set it, which would otherwise fall back to the inherited value).
 * Production files are only ever opened for reading (see `makeCopies`).
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { ApplicationConfig, ReleaseConfig } from '../config/types.js';

export interface DataCopy {
  /** The production file (absolute). */
  readonly source: string;
  /** Its copy in the sandbox. */
  readonly copy: string;
  /** Whether the source existed (else the copy path starts empty). */
  readonly existed: boolean;
  /** `service VAR` pairs pointed at the copy. */
  readonly vars: readonly string[];
  /** Why it is copied, for the notes. */
  readonly reason: string;
}

export interface DataPlan {
  readonly copies: readonly DataCopy[];
  /** Per `service\u0000revision`: the variables that point it at copies (see `copyEnv`). */
  readonly env: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Production files whose size and modification time are compared before and after. */
  readonly watched: readonly string[];
  readonly notes: readonly string[];
}

export interface DataPlanInput {
  readonly app: ApplicationConfig;
  readonly release: ReleaseConfig;
  /** The services the sandbox runs. */
  readonly services: Iterable<string>;
  readonly dataFiles?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Relative paths resolve from here; only files under it are copied by rule 3. */
  readonly baseDir: string;
  /** Augur's environment, which the processes inherit. */
  readonly inheritedEnv: Readonly<Record<string, string | undefined>>;
  /** Where the copies go. */
  readonly dataDir: string;
}

/** Not data, whatever names them. */
const SYSTEM = ['/dev/', '/proc/', '/sys/'];

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function under(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Decides what to copy; touches nothing but `stat`. */
export function planDataCopies(input: DataPlanInput): DataPlan {
  const { app, release, baseDir, dataDir } = input;
  const services = [...input.services];
  const notes: string[] = [];
  /** Production file → why it is copied. */
  const sources = new Map<string, string>();
  const add = (path: string, reason: string): void => {
    if (!sources.has(path)) sources.set(path, reason);
  };
  const mitigated = new Set<string>();
  for (const m of release.mitigations) {
    if (m.backup === undefined || !('sqlite' in m.backup)) continue;
    const absolute = resolve(baseDir, m.backup.sqlite);
    mitigated.add(absolute);
    if (isFile(absolute)) add(absolute, `backed up by mitigation ${m.name}`);
  }
  /** Inherited variables: only files under the base directory (not the system's certificates …). */
  const inheritedData = (path: string): boolean =>
    mitigated.has(path) || (under(baseDir, path) && isFile(path));
  /** A revision's own `env` is configuration: any file it names, wherever it is. */
  const namedData = (path: string): boolean =>
    mitigated.has(path) || (isFile(path) && !SYSTEM.some((dir) => path.startsWith(dir)));

  /** Per service × revision: variable → production file. */
  const vars = new Map<string, Map<string, string>>();
  for (const service of services) {
    const config = app.services[service];
    if (config === undefined) continue;
    // What a variable means for the service: given, inherited, or named by any of its revisions.
    const meaning = new Map<string, string>();
    for (const [variable, value] of Object.entries(input.inheritedEnv)) {
      if (value === undefined || value === '' || /^(AUGUR_|npm_)/i.test(variable)) continue;
      const path = resolve(baseDir, value);
      if (inheritedData(path)) meaning.set(variable, path);
    }
    const own = new Map<string, Map<string, string>>();
    for (const revision of Object.values(config.revisions)) {
      const named = new Map<string, string>();
      for (const [variable, value] of Object.entries(revision.env)) {
        if (value === '') continue;
        const path = resolve(revision.cwd, value);
        if (namedData(path)) {
          named.set(variable, path);
          if (!meaning.has(variable)) meaning.set(variable, path);
        } else if (under(baseDir, path) && isDirectory(path)) {
          notes.push(
            `${service} ${revision.name}: ${variable} names the directory ${value}, which is not copied: ` +
              'its processes may write into it',
          );
        }
      }
      own.set(revision.name, named);
    }
    // The service's declared data files (`data` in the Application), then what the caller adds.
    const given: Record<string, string> = { ...config.data, ...input.dataFiles?.[service] };
    for (const revision of Object.values(config.revisions)) {
      // A revision's own value wins over what another revision or the environment says; dataFiles
      // over everything.
      const chosen = new Map<string, string>();
      for (const [variable, path] of meaning)
        if (revision.env[variable] === undefined) chosen.set(variable, path);
      for (const [variable, path] of own.get(revision.name) ?? []) chosen.set(variable, path);
      for (const [variable, path] of Object.entries(given)) chosen.set(variable, resolve(baseDir, path));
      for (const [variable, path] of chosen) {
        add(path, variable in given ? 'given in dataFiles' : `named by ${variable}`);
      }
      vars.set(`${service}\u0000${revision.name}`, chosen);
    }
  }

  const copyOf = new Map<string, string>();
  let index = 0;
  for (const path of sources.keys()) copyOf.set(path, join(dataDir, `${index++}-${basename(path)}`));
  const env = new Map<string, Record<string, string>>();
  const pointed = new Map<string, Set<string>>();
  for (const [key, chosen] of vars) {
    const out: Record<string, string> = {};
    for (const [variable, path] of chosen) {
      const copy = copyOf.get(path) as string;
      out[variable] = copy;
      const [service] = key.split('\u0000');
      const set = pointed.get(path) ?? new Set<string>();
      set.add(`${service} ${variable}`);
      pointed.set(path, set);
    }
    env.set(key, out);
  }
  const copies: DataCopy[] = [];
  for (const [path, reason] of sources) {
    const vars = [...(pointed.get(path) ?? [])];
    copies.push({ source: path, copy: copyOf.get(path) as string, existed: isFile(path), vars, reason });
    if (vars.length === 0)
      notes.push(
        `${path} (${reason}) is named by no environment variable of the sandbox's services: a ` +
          'service that writes it by default would write the production file; name it in dataFiles',
      );
  }
  const watched = [...new Set([...sources.keys(), ...mitigated])].filter(isFile);
  return { copies, env, watched, notes };
}

/** The variables to set for one revision the sandbox runs (its data copies). */
export function copyEnv(plan: DataPlan, service: string, revision: string): Readonly<Record<string, string>> {
  return plan.env.get(`${service}\u0000${revision}`) ?? {};
}

const SQLITE_HEADER = 'SQLite format 3\u0000';

function isSqlite(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(16);
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === SQLITE_HEADER;
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes the copies the plan lists. Sources are only ever read: a SQLite database is copied byte for
 * byte with its write-ahead log (which SQLite then recovers in the copy, folded in by a checkpoint)
 * and checked; a copy torn by a concurrent write fails the check and is taken again. After
 * COPY_ATTEMPTS torn copies, SQLite's online backup over a read-only connection (a consistent
 * snapshot, at the cost of the shared-memory file SQLite keeps beside a WAL database) takes over.
 */
export async function makeCopies(plan: DataPlan, dataDir: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  for (const { source, copy, existed } of plan.copies) {
    if (!existed) continue;
    if (!isSqlite(source)) {
      copyFileSync(source, copy);
      continue;
    }
    let sound = false;
    for (let attempt = 0; attempt < COPY_ATTEMPTS && !sound; attempt++) sound = copySqliteFiles(source, copy);
    if (!sound) {
      const db = new Database(source, { readonly: true, fileMustExist: true });
      try {
        await db.backup(copy);
      } finally {
        db.close();
      }
    }
  }
}

const COPY_ATTEMPTS = 3;

/** Copies a database and its WAL, then opens the copy: true when it checks out. */
function copySqliteFiles(source: string, copy: string): boolean {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
  copyFileSync(source, copy);
  if (existsSync(`${source}-wal`)) copyFileSync(`${source}-wal`, `${copy}-wal`);
  try {
    const db = new Database(copy, { fileMustExist: true });
    try {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') return false;
      db.pragma('wal_checkpoint(TRUNCATE)');
      return true;
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}

export interface FileState {
  readonly path: string;
  readonly size: number | null;
  readonly mtimeMs: number | null;
}

export function fileStates(paths: readonly string[]): FileState[] {
  return paths.map((path) => {
    try {
      const s = statSync(path);
      return { path, size: s.size, mtimeMs: s.mtimeMs };
    } catch {
      return { path, size: null, mtimeMs: null };
    }
  });
}

/** Notes for watched production files that changed while the sandbox ran. */
export function changedFiles(before: readonly FileState[]): string[] {
  const after = fileStates(before.map((f) => f.path));
  return before
    .filter((f, i) => f.size !== after[i]?.size || f.mtimeMs !== after[i]?.mtimeMs)
    .map(
      (f) =>
        `warning: the production file ${f.path} changed while the sandbox ran (production traffic, or a ` +
        'sandbox process writing a path that no environment variable names)',
    );
}
