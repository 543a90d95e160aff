/** Files of the state directory and the store that hold secrets: kept to their owner. */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';

/**
 * Narrows a file or directory that group or others may use to `mode`, when it is this user's to
 * change: what an earlier run (or version) left wider. A path that does not exist is left alone.
 */
export function narrowToOwner(path: string, mode: number): void {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch {
    return;
  }
  if ((stat.mode & 0o077) !== 0 && stat.uid === process.getuid?.()) chmodSync(path, mode);
}

/** A directory only its owner may enter: made 0700, or narrowed to it. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  narrowToOwner(dir, 0o700);
}
