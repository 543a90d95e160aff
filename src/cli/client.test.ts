import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerTarget, TargetHints } from './client.js';
import { resolveTarget } from './client.js';
import { EXIT, UsageError } from './command.js';
import { main } from './main.js';

const root = mkdtempSync(join(tmpdir(), 'augur-client-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A state directory holding a server record, as `augur up` writes it, with `fields` changed. */
function stateDir(fields: Record<string, unknown> = {}): string {
  const dir = join(root, `state-${n++}`);
  mkdirSync(dir);
  const info = { url: 'http://127.0.0.1:7070', pid: process.pid, application: 'shop', startedAt: 0 };
  writeFileSync(join(dir, 'server.json'), JSON.stringify({ ...info, ...fields }));
  writeFileSync(join(dir, 'admin.token'), 'local-admin-token\n', { mode: 0o600 });
  return dir;
}

function refusal(hints: TargetHints): Error {
  try {
    resolveTarget({ env: {}, ...hints });
  } catch (error) {
    return error as Error;
  }
  throw new Error('a target was resolved');
}

/** The PID of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid ?? 0;
}

describe('resolveTarget', () => {
  it('uses a local server record that is the user’s own, names loopback and whose process runs', () => {
    for (const url of [
      'http://127.0.0.1:7070',
      'http://127.1.2.3:1',
      'http://localhost:9',
      'http://[::1]:9',
    ]) {
      const target: ServerTarget = resolveTarget({ stateDir: stateDir({ url }), env: {} });
      expect(target.url).toBe(url);
      expect(target.token).toBe('local-admin-token');
    }
    const mine = resolveTarget({ stateDir: stateDir(), env: { AUGUR_TOKEN: 'augur_mine' } });
    expect(mine.token).toBe('augur_mine');
  });

  it('sends nothing to an address off this machine that a server record names', () => {
    for (const url of ['http://evil.example:7070', 'http://10.0.0.8:7070', 'http://127.0.0.1.evil.example']) {
      const error = refusal({ stateDir: stateDir({ url }), token: 'augur_users-own-token' });
      expect(error).toMatchObject({ code: 'SERVER_UNTRUSTED' });
      expect(error.message).toMatch(/not an address on this machine/);
    }
    expect(refusal({ stateDir: stateDir({ url: 42 }) })).toMatchObject({ code: 'SERVER_UNTRUSTED' });
  });

  it('calls a record whose process has ended stale', () => {
    const error = refusal({ stateDir: stateDir({ pid: deadPid() }) });
    expect(error).toMatchObject({ code: 'NOT_RUNNING' });
    expect(error.message).toMatch(/is no longer running/);
  });

  it.skipIf(process.getuid?.() !== 0)('trusts no record another user wrote (needs root to chown)', () => {
    const dir = stateDir();
    chownSync(join(dir, 'server.json'), 65_534, 65_534);
    const error = refusal({ stateDir: dir, token: 'augur_users-own-token' });
    expect(error).toMatchObject({ code: 'SERVER_UNTRUSTED' });
    expect(error.message).toMatch(/belongs to user 65534/);
  });

  it('takes a malformed --server or AUGUR_SERVER as a usage error', () => {
    for (const hints of [
      { server: 'localhost:7070' },
      { server: 'ftp://127.0.0.1' },
      { server: 'http://' },
      { env: { AUGUR_SERVER: '127.0.0.1:7070' } },
      { server: 'http://admin:s3cret@127.0.0.1:7070' },
    ]) {
      const error = refusal(hints);
      expect(error, JSON.stringify(hints)).toBeInstanceOf(UsageError);
      expect(error.message).not.toContain('s3cret');
    }
    expect(refusal({ env: { AUGUR_SERVER: 'nope' } }).message).toMatch(
      /^AUGUR_SERVER must be an http\(s\) URL/,
    );
    expect(resolveTarget({ server: 'https://augur.example/', env: {} }).url).toBe('https://augur.example');
  });

  it('makes `augur status --server MALFORMED` exit 2 with the usage', async () => {
    let err = '';
    const io = { out: () => undefined, err: (text: string) => void (err += text), isTty: false };
    expect(await main(['status', '--server', 'localhost:7070'], io)).toBe(EXIT.usage);
    expect(err).toMatch(/--server must be an http\(s\) URL.*\nUsage: augur status/s);
  });
});
