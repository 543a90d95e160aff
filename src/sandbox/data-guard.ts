/**
 * The last line of defence for production data: a file a sandbox process holds open for writing
 * outside the sandbox's directory is production data the copies missed (a path compiled into the
 * service, which no environment variable names). The sandbox looks, through /proc/PID/fd, before
 * it sends any request and after every step, and stops at the first such file.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';

export interface OpenForWriting {
  readonly pid: number;
  readonly path: string;
}

/** Places a process writes that are not data: devices, kernel interfaces. */
const NOT_DATA = ['/dev/', '/proc/', '/sys/'];
// O_ACCMODE: 1 write-only, 2 read-write.
const ACCESS_MODE = 3;

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return !rel.startsWith('..') && !isAbsolute(rel);
}

/** Regular files the processes hold open for writing outside `allowedDir`. */
export function writesOutside(pids: readonly number[], allowedDir: string): OpenForWriting[] {
  const found: OpenForWriting[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      let info: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      } catch {
        continue;
      }
      if (!target.startsWith('/') || NOT_DATA.some((p) => target.startsWith(p))) continue;
      const path = target.endsWith(' (deleted)') ? target.slice(0, -' (deleted)'.length) : target;
      if (inside(allowedDir, path)) continue;
      const flags = Number.parseInt(/^flags:\s+([0-7]+)/m.exec(info)?.[1] ?? '0', 8);
      if ((flags & ACCESS_MODE) !== 0) found.push({ pid, path });
    }
  }
  return found;
}
