import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { inheritedEnv } from '../core/child-env.js';

/** What a restore discarded, compared row by row. */
export interface DumpChanges {
  /** Rows the replaced data held that the backup does not: written, or changed, since. */
  readonly rows: number;
  /** Rows of the backup the replaced data no longer held: deleted or changed since, put back. */
  readonly reverted: number;
  /** `rows` per table, tables with none left out. */
  readonly tables: Record<string, number>;
}

/**
 * Most distinct rows held while comparing (each as a 16-byte digest in a set: about 100 bytes of
 * memory a row, so ~200 MB at the bound); a larger database is not counted.
 */
export const MAX_COMPARED_ROWS = 2_000_000;

/** `COPY schema.table (columns) FROM stdin;`, as pg_restore writes the data of a table. */
const COPY = /^COPY (.+?)(?: \((.*)\))? FROM stdin;$/;

/** A row's identity: a digest of its table's columns and its COPY text, bytes as they came. */
function digest(columns: string, line: string): string {
  return createHash('sha256')
    .update(columns, 'latin1')
    .update('\n')
    .update(line, 'latin1')
    .digest()
    .toString('latin1', 0, 16);
}

/**
 * Counts what restoring the `backup` dump discarded, from dumps (pg_dump's custom format) of the
 * data as it stood before each restore of it: `replaced` oldest first, the last one the restore
 * just done. Rows are compared whole, as text, table by table, as sets (a row repeated in a table
 * without a key counts once); a table whose columns differ from the backup's has every row
 * counted. `rows` are the distinct rows of any replaced dump the backup does not hold, `reverted`
 * the backup's rows the last replaced dump does not hold. Reads the dumps with `pg_restore` (no
 * database needed), each within `timeoutMs`; throws when one cannot be read or more than
 * `maxRows` distinct rows would have to be held. Large objects are not compared.
 */
export async function countDumpChanges(
  backup: string,
  replaced: readonly string[],
  options: { readonly maxRows?: number; readonly timeoutMs?: number } = {},
): Promise<DumpChanges> {
  const maxRows = options.maxRows ?? MAX_COMPARED_ROWS;
  const timeoutMs = options.timeoutMs ?? 120_000;
  let held = 0;
  const hold = <T>(set: Set<T>, value: T): boolean => {
    if (set.has(value)) return false;
    if (++held > maxRows) throw new Error(`more than ${maxRows} distinct rows to compare`);
    set.add(value);
    return true;
  };
  const output = await stdoutArguments(timeoutMs);
  const saved = new Map<string, { columns: string; rows: Set<string>; found: Set<string> }>();
  await readRows(backup, output, timeoutMs, (table, columns, line) => {
    let t = saved.get(table);
    if (t === undefined) saved.set(table, (t = { columns, rows: new Set(), found: new Set() }));
    if (line !== null) hold(t.rows, digest(columns, line));
  });
  const written = new Map<string, Set<string>>();
  const last = replaced.length - 1;
  for (const [i, dump] of replaced.entries()) {
    await readRows(dump, output, timeoutMs, (table, columns, line) => {
      if (line === null) return;
      const key = digest(columns, line);
      const t = saved.get(table);
      if (t !== undefined && t.columns === columns && t.rows.has(key)) {
        if (i === last) hold(t.found, key);
        return;
      }
      let w = written.get(table);
      if (w === undefined) written.set(table, (w = new Set()));
      hold(w, key);
    });
  }
  const tables: Record<string, number> = {};
  let rows = 0;
  for (const [table, w] of written) {
    tables[table] = w.size;
    rows += w.size;
  }
  let reverted = 0;
  for (const t of saved.values()) reverted += t.rows.size - t.found.size;
  return { rows, reverted, tables };
}

/**
 * Streams the table rows of a custom-format dump: `onRow(table, columns, line)` for each row (its
 * COPY text line, which escapes newlines and backslashes; decoded byte for byte), and once with
 * `line` null for each table, rows or not. `public.` is left off table names.
 */
function readRows(
  dump: string,
  output: readonly string[],
  timeoutMs: number,
  onRow: (table: string, columns: string, line: string | null) => void,
): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('pg_restore', ['--data-only', ...output, dump], {
      env: inheritedEnv(process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let failure: Error | null = null;
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-2_048)));
    child.stdout.setEncoding('latin1');
    let table: string | null = null;
    let columns = '';
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (failure !== null) return;
      try {
        if (table === null) {
          const copy = COPY.exec(line);
          if (copy === null) return;
          table = (copy[1] ?? '').trim().replace(/^public\./, '');
          columns = copy[2] ?? '';
          onRow(table, columns, null);
        } else if (line === '\\.') table = null;
        else onRow(table, columns, line);
      } catch (error) {
        failure = error as Error;
        child.kill('SIGKILL');
      }
    });
    child.on('error', (error) => fail(error));
    child.on('close', (code, signal) => {
      if (failure !== null) fail(failure);
      else if (code === 0) done();
      else {
        const said = errors.trim().split('\n').pop() ?? '';
        fail(
          new Error(
            `pg_restore --data-only ${dump} exited ${signal ?? code}${said === '' ? '' : `: ${said}`}`,
          ),
        );
      }
    });
  });
}

/**
 * How to make pg_restore write its script to standard output: `--file=-` from PostgreSQL 12, which
 * requires an output; before 12 that names a file "-" (the whole database in plain text, in the
 * working directory), and standard output is the default. A version it cannot tell is refused.
 */
async function stdoutArguments(timeoutMs: number): Promise<string[]> {
  const said = await new Promise<string>((done, fail) => {
    const child = spawn('pg_restore', ['--version'], {
      env: inheritedEnv(process.env),
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: timeoutMs,
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', fail);
    child.on('close', () => done(out));
  });
  const major = /(\d+)(?:\.\d+)*/.exec(said)?.[1];
  if (major === undefined) throw new Error(`pg_restore --version said "${said.trim()}": no version to go by`);
  return Number(major) >= 12 ? ['--file=-'] : [];
}
