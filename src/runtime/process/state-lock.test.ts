import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockHolder, StateLock } from './state-lock.js';

const root = mkdtempSync(join(tmpdir(), 'augur-lock-'));
let n = 0;
const fresh = (): string => join(root, `state-${n++}`);

/** A process that runs until killed, standing for another Augur. */
const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
afterAll(() => {
  other.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('the state directory lock', () => {
  it('names the live Augur that holds it, and nothing for a stale or an absent lock', () => {
    const dir = fresh();
    expect(lockHolder(dir)).toBeNull();
    expect(existsSync(dir)).toBe(false); // asking creates nothing
    const lock = new StateLock(dir);
    lock.acquire();
    expect(lockHolder(dir)).toBeNull(); // this process's own lock
    lock.release();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid ?? 0;
    writeFileSync(join(dir, 'augur.lock'), `${dead}\n`);
    expect(lockHolder(dir)).toBeNull();
    writeFileSync(join(dir, 'augur.lock'), `${other.pid}\n`);
    expect(lockHolder(dir)).toBe(other.pid);
  });

  it('refuses a second Augur, saying which one runs where', () => {
    const dir = fresh();
    new StateLock(dir);
    writeFileSync(join(dir, 'augur.lock'), `${other.pid}\n`);
    expect(() => new StateLock(dir).acquire()).toThrow(
      expect.objectContaining({
        code: 'STATE_LOCKED',
        message: expect.stringMatching(
          new RegExp(`^an Augur \\(pid ${other.pid}\\) is already running in ${dir}: stop it first`),
        ) as unknown,
      }),
    );
    // A stale lock is taken over.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid ?? 0;
    writeFileSync(join(dir, 'augur.lock'), `${dead}\n`);
    const lock = new StateLock(dir);
    lock.acquire();
    lock.release();
    expect(existsSync(join(dir, 'augur.lock'))).toBe(false);
  });
});
