import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AugurError } from '../../core/errors.js';
import { privateDir } from '../../store/private-files.js';
import { isAlive } from './signals.js';

const LOCK_FILE = 'augur.lock';

/** The error of a state directory another Augur holds: code STATE_LOCKED (the CLI exits 2). */
export function stateLocked(holder: number, stateDir: string): AugurError {
  return new AugurError(
    'STATE_LOCKED',
    `an Augur (pid ${holder}) is already running in ${stateDir}: stop it first (Ctrl-C where it runs, ` +
      `or kill ${holder}), or give this application another spec.stateDir`,
  );
}

/**
 * The PID of the live Augur, other than this process, that holds the state directory's lock; null
 * when there is none (no lock, or a stale one whose owner was killed). Reads only: it creates
 * nothing, so a command can ask before it binds or writes anything.
 */
export function lockHolder(stateDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(stateDir, LOCK_FILE), 'utf8');
  } catch {
    return null;
  }
  const holder = Number(text.trim());
  return Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder) ? holder : null;
}

/**
 * One Augur per state directory: the lock file holds the owner's PID. A lock whose PID is dead is
 * stale (its owner was killed) and is taken over.
 */
export class StateLock {
  private readonly stateDir: string;
  private readonly file: string;
  private held = false;

  constructor(stateDir: string) {
    // Private: it holds the store, the logs, the backups and the local admin token.
    privateDir(stateDir);
    this.stateDir = stateDir;
    this.file = join(stateDir, LOCK_FILE);
  }

  acquire(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.file, `${process.pid}\n`, { flag: 'wx' });
        this.held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = lockHolder(this.stateDir);
        if (holder !== null) throw stateLocked(holder, this.stateDir);
        rmSync(this.file, { force: true });
      }
    }
    throw new AugurError('STATE_LOCKED', `cannot take the lock ${this.file}`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.file, { force: true });
  }
}
