import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AugurError } from '../core/errors.js';
import { redactSecrets } from '../core/redact.js';
import { isLoopbackHost } from '../core/loopback.js';

/**
 * How CLI commands on the same machine reach a running `augur up` or `augur server`: its address in
 * `<state>/server.json`, and an admin token in `<state>/admin.token` readable by its owner only.
 */
export interface ServerInfo {
  readonly url: string;
  readonly pid: number;
  readonly application: string;
  readonly startedAt: number;
}

const infoFile = (stateDir: string): string => join(stateDir, 'server.json');
const tokenFile = (stateDir: string): string => join(stateDir, 'admin.token');

export function publishServer(stateDir: string, info: ServerInfo): string {
  const token = randomBytes(32).toString('base64url');
  writeFileSync(tokenFile(stateDir), `${token}\n`, { mode: 0o600 });
  chmodSync(tokenFile(stateDir), 0o600);
  writeFileSync(infoFile(stateDir), `${JSON.stringify(info, null, 2)}\n`);
  return token;
}

export function unpublishServer(stateDir: string): void {
  rmSync(infoFile(stateDir), { force: true });
  rmSync(tokenFile(stateDir), { force: true });
}

/**
 * The Augur running for a state directory, and its admin token. A client sends its token (the
 * user's own, or this admin token) wherever server.json points, and a state directory can come
 * from an Application file anyone wrote: the record is used only when it is the user's own file,
 * names an address on this machine, and its process is still running.
 */
export function readServer(stateDir: string): { info: ServerInfo; token: string } {
  const file = infoFile(stateDir);
  let text: string;
  let owner: number;
  try {
    const fd = openSync(file, 'r');
    try {
      owner = fstatSync(fd).uid;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    throw new AugurError(
      'NOT_RUNNING',
      `no running Augur found for state directory ${stateDir}: start one with \`augur up FILE\` or \`augur server FILE\``,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && owner !== uid) {
    throw untrusted(file, `it belongs to user ${owner}, not to you (${uid})`);
  }
  const info = parseInfo(text);
  if (info === null) throw untrusted(file, 'it is not a server record (url, pid)');
  if (!loopbackUrl(info.url)) {
    throw untrusted(file, `it names ${redactSecrets(info.url)}, which is not an address on this machine`);
  }
  if (!running(info.pid)) {
    throw new AugurError(
      'NOT_RUNNING',
      `the Augur recorded in ${file} (PID ${info.pid}) is no longer running: start it again with \`augur up FILE\` or \`augur server FILE\``,
    );
  }
  try {
    return { info, token: readFileSync(tokenFile(stateDir), 'utf8').trim() };
  } catch {
    throw untrusted(file, `its admin token ${tokenFile(stateDir)} cannot be read`);
  }
}

function untrusted(file: string, why: string): AugurError {
  return new AugurError(
    'SERVER_UNTRUSTED',
    `the local server record ${file} is not trusted: ${why}. Nothing was sent; give the server with --server URL (or AUGUR_SERVER)`,
  );
}

function parseInfo(text: string): ServerInfo | null {
  try {
    const data = JSON.parse(text) as Partial<ServerInfo> | null;
    if (typeof data?.url !== 'string' || !Number.isInteger(data.pid) || (data.pid ?? 0) <= 0) return null;
    return data as ServerInfo;
  } catch {
    return null;
  }
}

function loopbackUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

/** Whether the process runs and is this user's: one of another user holds a reused PID. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Constant-time comparison of a presented bearer token with the expected one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
