import { spawn } from 'node:child_process';
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

/** Most row text held in memory while comparing; a larger database is not counted. */
export const MAX_COMPARED_CHARS = 256 * 1024 * 1024;

/** `COPY schema.table (columns) FROM stdin;`, as pg_restore writes the data of a table. */
const COPY = /^COPY (.+?)(?: \((.*)\))? FROM stdin;$/;

/**
 * Counts what restoring the `backup` dump discarded, from dumps (pg_dump's custom format) of the
 * data as it stood before each restore of it: `replaced` oldest first, the last one the restore
 * just done. Rows are compared whole, as text, table by table (a table whose columns differ from
 * the backup's has every row counted): `rows` are those of any replaced dump the backup does not
 * hold, `reverted` those of the backup the last replaced dump does not hold. Reads the dumps with
 * `pg_restore` (no database needed); throws when one cannot be read or the rows would take more
 * than MAX_COMPARED_CHARS of memory. Large objects are not compared.
 */
export async function countDumpChanges(
  backup: string,
  replaced: readonly string[],
  maxChars = MAX_COMPARED_CHARS,
): Promise<DumpChanges> {
  let held = 0;
  const hold = (line: string): void => {
    held += line.length;
    if (held > maxChars)
      throw new Error(`the rows take more than ${(maxChars / 2 ** 20).toFixed(1)} MiB of text to compare`);
  };
  const saved = new Map<string, { columns: string; rows: Set<string> }>();
  await readRows(backup, (table, columns, line) => {
    let t = saved.get(table);
    if (t === undefined) saved.set(table, (t = { columns, rows: new Set() }));
    if (line !== null && !t.rows.has(line)) {
      hold(line);
      t.rows.add(line);
    }
  });
  const written = new Map<string, Set<string>>();
  const kept = new Map<string, number>();
  const last = replaced.length - 1;
  for (const [i, dump] of replaced.entries()) {
    await readRows(dump, (table, columns, line) => {
      if (line === null) return;
      const t = saved.get(table);
      const same = t !== undefined && t.columns === columns;
      if (same && t.rows.has(line)) {
        if (i === last) kept.set(table, (kept.get(table) ?? 0) + 1);
        return;
      }
      let w = written.get(table);
      if (w === undefined) written.set(table, (w = new Set()));
      // Same-columns rows are compared as text; another shape's rows are told apart by dump too.
      const key = same ? line : `${i}\u0000${line}`;
      if (!w.has(key)) {
        hold(key);
        w.add(key);
      }
    });
  }
  const tables: Record<string, number> = {};
  let rows = 0;
  for (const [table, w] of written) {
    tables[table] = w.size;
    rows += w.size;
  }
  let reverted = 0;
  for (const [table, t] of saved) reverted += t.rows.size - (kept.get(table) ?? 0);
  return { rows, reverted, tables };
}

/**
 * Streams the table rows of a custom-format dump: `onRow(table, columns, line)` for each row (its
 * COPY text line, which escapes newlines), and once with `line` null for each table, rows or not.
 * `public.` is left off table names.
 */
function readRows(
  dump: string,
  onRow: (table: string, columns: string, line: string | null) => void,
): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('pg_restore', ['--data-only', '--file=-', dump], {
      env: inheritedEnv(process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let failure: Error | null = null;
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-2_048)));
    let table: string | null = null;
    let columns = '';
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (failure !== null) return;
      try {
        if (table === null) {
          const copy = COPY.exec(line);
          if (copy === null) return;
          table = (copy[1] ?? '').replace(/^public\./, '');
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
