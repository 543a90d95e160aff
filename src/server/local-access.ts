import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AugurError } from '../core/errors.js';

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

export function readServer(stateDir: string): { info: ServerInfo; token: string } {
  try {
    const info = JSON.parse(readFileSync(infoFile(stateDir), 'utf8')) as ServerInfo;
    const token = readFileSync(tokenFile(stateDir), 'utf8').trim();
    return { info, token };
  } catch {
    throw new AugurError(
      'NOT_RUNNING',
      `no running Augur found for state directory ${stateDir}: start one with \`augur up FILE\` or \`augur server FILE\``,
    );
  }
}

/** Constant-time comparison of a presented bearer token with the expected one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
