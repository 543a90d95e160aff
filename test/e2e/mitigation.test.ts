import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/core/random.js';
import { MitigationRunner } from '../../src/mitigation/runner.js';
import { echoApplicationYaml, echoReleaseYaml } from '../../src/testing/echo-app.js';
import { shopOrders } from '../../src/testing/shop-orders.js';
import { Background, backgroundRuns, freePort, processesOf, repoRoot, traffic } from './helpers.js';

/**
 * A release with a mitigation on a real SQLite file: its check (a slow one, so that a kill can land
 * in it) fails while a row is marked bad. The canary fails half its requests, so it is rolled back;
 * the test marks a row bad once the first tier has started (the damage a bad revision does).
 */
async function mitigatedRelease(
  dir: string,
): Promise<{ file: string; port: number; stateDir: string; data: string }> {
  const port = await freePort();
  const stateDir = join(dir, 'state');
  const data = join(dir, 'data.db');
  const db = new Database(data);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, bad INTEGER NOT NULL)');
  db.prepare('INSERT INTO items (bad) VALUES (0), (0), (0)').run();
  db.close();
  const check = join(dir, 'check.mjs');
  writeFileSync(
    check,
    [
      "import { createRequire } from 'node:module';",
      `const Database = createRequire(${JSON.stringify(join(repoRoot, 'package.json'))})('better-sqlite3');`,
      'await new Promise((r) => setTimeout(r, 700));',
      'const db = new Database(process.argv[2], { readonly: true });',
      "const { n } = db.prepare('SELECT COUNT(*) AS n FROM items WHERE bad = 1').get();",
      'db.close();',
      'if (n > 0) { console.error(`${n} bad items`); process.exit(1); }',
      "console.log('items sound');",
    ].join('\n'),
  );
  // A second mitigation whose backup command takes a while and leaves a marker when it starts: a
  // kill can be aimed at the backup.
  const slow = join(dir, 'slow-backup.mjs');
  writeFileSync(
    slow,
    [
      "import { appendFileSync } from 'node:fs';",
      `appendFileSync(${JSON.stringify(join(dir, 'backup-started'))}, process.env.AUGUR_MITIGATION + '\\n');`,
      'await new Promise((r) => setTimeout(r, 1_000));',
    ].join('\n'),
  );
  const file = join(dir, 'echo.yaml');
  writeFileSync(
    file,
    `${echoApplicationYaml({ stateDir, port })}---\n${echoReleaseYaml({
      name: 'echo-v2',
      env: "ERROR_RATE: '0.5'",
      tiers: '[10, 50, 100]',
      bake: '{ minDuration: 1s, minRequests: 20 }',
      monitoring: '{ interval: 300ms, warningInterval: 100ms }',
      extra: [
        '  mitigations:',
        '    - name: items',
        `      backup: { sqlite: ${data} }`,
        `      check: { command: [node, ${check}, ${data}] }`,
        '      restore: auto',
        '    - name: slow',
        `      backup: { command: [node, ${slow}] }`,
        '      restore: auto',
        '',
      ].join('\n'),
    })}`,
  );
  return { file, port, stateDir, data };
}

function badItems(data: string): number {
  const db = new Database(data, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM items WHERE bad = 1').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function markBad(data: string): void {
  const db = new Database(data);
  db.pragma('busy_timeout = 5000');
  db.prepare('INSERT INTO items (bad) VALUES (1)').run();
  db.close();
}

/** Lines after which the first run is killed, one trial each ('backup': once the backup command runs). */
const KILL_AFTER: readonly (RegExp | 'backup')[] = [
  'backup',
  /echo v2: tier 10%/,
  /RED echo v2 rolled back/,
  /checking the data after/,
  /restoring from the backup/,
  /checking again/,
];

describe('mitigation through `augur rollout --embedded` (real processes, real SQLite)', () => {
  const { fresh, track } = backgroundRuns('augur-e2e-mitigation-');

  it('backs up, rolls the canary back, finds the damage, restores and verifies — across SIGKILLs at any point', async () => {
    const random = new SeededRandom(61);
    const trials = Number(process.env.AUGUR_MITIGATION_TRIALS ?? KILL_AFTER.length + 3);
    for (let trial = 0; trial < trials; trial++) {
      const dir = fresh();
      const { file, port, stateDir, data } = await mitigatedRelease(dir);
      let damaged = false;
      const damage = async (run: Background): Promise<void> => {
        await run.waitFor(/tier 10%/, 30_000).catch(() => undefined);
        if (!damaged && /tier 10%/.test(run.output)) {
          markBad(data);
          damaged = true;
        }
      };
      const load = traffic(port);
      // The first run is killed right after a chosen line — the first tier, the rollback, during
      // the check, during the restore or the check after it — or, past those, at a random moment
      // (which may fall in the backup); trial 0 is not killed.
      const first = new Background(['rollout', '--embedded', file]);
      track(first);
      const watching = damage(first);
      const at = KILL_AFTER[trial - 1];
      if (trial > 0) {
        if (at === 'backup') {
          const marker = join(dir, 'backup-started');
          const deadline = Date.now() + 30_000;
          while (!existsSync(marker) && Date.now() < deadline) await sleep(10);
        } else if (at !== undefined) {
          await first.waitFor(at, 30_000).catch(() => undefined);
        } else {
          await sleep(Math.floor(random.next() * 2_500));
        }
        first.child.kill('SIGKILL');
        if (at === 'backup')
          expect(first.output, `trial ${trial}`).not.toMatch(/release echo-v2 of echo started/);
      }
      await first.exited;
      await watching;
      let output = first.output;
      if (trial > 0 || !/echo-v2: rolled-back/.test(first.output)) {
        const second = new Background(['rollout', '--embedded', file]);
        track(second);
        await damage(second);
        await second.exited;
        output += `\n----\n${second.output}`;
        expect(second.output, `trial ${trial}:\n${output}`).toMatch(/echo-v2: rolled-back/);
      }
      await load.stop();
      expect(damaged, `trial ${trial}:\n${output}`).toBe(true);
      expect(output, `trial ${trial}`).toMatch(/data restored and verified/);
      // What the restore threw away is said, not hidden: the bad row, written after the backup.
      expect(output, `trial ${trial}`).toMatch(
        /data restored and verified .*items: [1-9]\d* rows? written or changed since the backup discarded \(the data before the restore is in .*-replaced-[0-9a-f]{6}\.sqlite\)/,
      );
      expect(badItems(data), `trial ${trial}:\n${output}`).toBe(0);
      // Backups are whole or absent: never a half-written file left behind as a backup.
      const backups = readdirSync(join(stateDir, 'backups', 'echo-v2'));
      expect(backups.filter((f) => !f.endsWith('.partial')).length).toBeGreaterThanOrEqual(1);
      // Private, and no -wal or -shm left beside the SQLite files.
      expect(
        backups.filter((f) => /-(wal|shm)$/.test(f)),
        `trial ${trial}`,
      ).toEqual([]);
      for (const f of backups.filter((f) => f.endsWith('.sqlite')))
        expect(statSync(join(stateDir, 'backups', 'echo-v2', f)).mode & 0o777, f).toBe(0o600);
      expect(processesOf(stateDir)).toEqual([]);
    }
  }, 600_000);
});

describe('recovering the sound orders a restore discarded (the shop)', () => {
  it('restores the orders backup, counting the orders written since, then re-applies the sound ones from the kept copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'augur-e2e-reapply-'));
    try {
      const data = join(dir, 'orders.db');
      const { db, write } = await shopOrders(data);
      const check = [process.execPath, join(repoRoot, 'examples/shop/check-orders.js'), data];
      const mitigation = {
        name: 'orders',
        backup: { sqlite: data },
        check: { command: check },
        restore: 'auto' as const,
      };
      const runner = new MitigationRunner({ stateDir: join(dir, 'state'), baseDir: repoRoot });
      write(20, false);
      const [backup] = await runner.backup('payments-v2', [mitigation], Date.now());
      write(7, false);
      write(3, true);
      expect((await runner.check([mitigation]))[0]?.detail).toMatch(/3 of 30 orders are corrupt/);
      const [restored] = await runner.restore([mitigation], backup === undefined ? [] : [backup]);
      expect(restored?.discarded).toMatchObject({ rows: 10, tables: { orders: 10 } });
      const kept = restored?.discarded?.kept.at(-1) ?? '';
      const out = execFileSync(
        process.execPath,
        [join(repoRoot, 'examples/shop/reapply-orders.js'), kept, data],
        {
          encoding: 'utf8',
        },
      );
      expect(out).toMatch(/^7 sound orders re-applied to .*; 3 corrupt left out; 20 already there/);
      const after = (await runner.check([mitigation]))[0];
      expect(after?.ok).toBe(true);
      expect(after?.detail).toMatch(/27 orders verified/);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
