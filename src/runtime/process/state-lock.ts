import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AugurError } from '../../core/errors.js';
import { privateDir } from '../../store/private-files.js';
import { isAlive } from './signals.js';

/**
 * One Augur per state directory: the lock file holds the owner's PID. A lock whose PID is dead is
 * stale (its owner was killed) and is taken over.
 */
export class StateLock {
  private readonly file: string;
  private held = false;

  constructor(stateDir: string) {
    // Private: it holds the store, the logs, the backups and the local admin token.
    privateDir(stateDir);
    this.file = join(stateDir, 'augur.lock');
  }

  acquire(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.file, `${process.pid}\n`, { flag: 'wx' });
        this.held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(readFileSync(this.file, 'utf8').trim());
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
          throw new AugurError(
            'STATE_LOCKED',
            `another Augur (PID ${holder}) is using the state directory ${this.file.slice(0, -'/augur.lock'.length)}`,
          );
        }
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
