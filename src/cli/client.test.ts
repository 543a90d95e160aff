import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerTarget, TargetHints } from './client.js';
import { cleartextTokenWarning, resolveTarget } from './client.js';
import { clientConfigPath, readClientConfig } from './client-config.js';
import { ConfigInvalidError } from './config-files.js';
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

/** A CLI configuration file with `text`, at `mode`; returns the environment that names it. */
function configFile(text: string, mode = 0o600): NodeJS.ProcessEnv {
  const path = join(root, `config-${n++}.yaml`);
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return { AUGUR_CONFIG: path };
}

function configRefusal(env: NodeJS.ProcessEnv): ConfigInvalidError {
  try {
    readClientConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigInvalidError);
    return error as ConfigInvalidError;
  }
  throw new Error('the configuration was accepted');
}

describe('the CLI configuration file', () => {
  it('is $AUGUR_CONFIG, else under $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(clientConfigPath({ AUGUR_CONFIG: '/etc/a.yaml', XDG_CONFIG_HOME: '/x' })).toEqual({
      path: '/etc/a.yaml',
      explicit: true,
    });
    expect(clientConfigPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' }).path).toBe('/x/augur/config.yaml');
    expect(clientConfigPath({ HOME: '/h' }).path).toBe('/h/.config/augur/config.yaml');
    // Absent at the default place: no configuration; absent where $AUGUR_CONFIG points: an error.
    expect(readClientConfig({ HOME: join(root, 'no-home') })).toBeNull();
    expect(configRefusal({ AUGUR_CONFIG: join(root, 'missing.yaml') }).report).toMatch(/ENOENT/);
  });

  it('gives the server and its token when nothing else does, below flags, environment and -f', () => {
    const env = configFile('server: https://augur.example:7070/\ntoken: augur_from-config\n');
    expect(resolveTarget({ env })).toMatchObject({
      url: 'https://augur.example:7070',
      token: 'augur_from-config',
      source: env['AUGUR_CONFIG'],
    });
    expect(resolveTarget({ env: { ...env, AUGUR_TOKEN: 'augur_env' } }).token).toBe('augur_env');
    expect(resolveTarget({ env: { ...env, AUGUR_SERVER: 'http://127.0.0.1:9' } }).url).toBe(
      'http://127.0.0.1:9',
    );
    expect(resolveTarget({ env, server: 'http://127.0.0.1:9' }).url).toBe('http://127.0.0.1:9');
    // -f FILE names a local Augur: it wins over the configuration, with its own admin token.
    expect(resolveTarget({ env, stateDir: stateDir() })).toMatchObject({
      url: 'http://127.0.0.1:7070',
      token: 'local-admin-token',
    });
  });

  it('sends its token to its own server only', () => {
    const env = configFile('server: https://augur.example:7070\ntoken: augur_from-config\n');
    expect(resolveTarget({ env, server: 'https://augur.example:7070/' }).token).toBe('augur_from-config');
    for (const other of [
      'https://evil.example:7070',
      'http://augur.example:7070',
      'https://augur.example:7071',
    ])
      expect(resolveTarget({ env, server: other }).token, other).toBeUndefined();
    // A token without a server goes nowhere.
    expect(
      resolveTarget({ env: configFile('token: augur_x\n'), server: 'http://127.0.0.1:9' }).token,
    ).toBeUndefined();
  });

  it('refuses a token that others may read, and names line and column of a bad key', () => {
    const readable = configFile('server: http://127.0.0.1:9\ntoken: augur_secret\n', 0o644);
    const error = configRefusal(readable);
    expect(error.report).toMatch(/others may read it \(mode 644\): run chmod 600/);
    expect(error.report).not.toContain('augur_secret');
    // Without a token the file holds nothing secret: any mode will do.
    expect(readClientConfig(configFile('server: http://127.0.0.1:9\n', 0o644))?.server).toBe(
      'http://127.0.0.1:9',
    );
    const path = configFile('server: http://127.0.0.1:9\ntokn: augur_x\n')['AUGUR_CONFIG'] as string;
    expect(configRefusal({ AUGUR_CONFIG: path }).report).toBe(
      `${path}:2:1  unknown key "tokn": the keys are server, token`,
    );
    expect(configRefusal(configFile('server: [1, 2]\n')).report).toMatch(
      /:1:1 {2}server must be non-empty text/,
    );
    expect(configRefusal(configFile('server: "unclosed\n')).report).toMatch(
      /config-\d+\.yaml:\d+:\d+ {2}Missing closing "quote/,
    );
  });

  it('makes a command exit 2 on a malformed server in it, naming file, line and column', async () => {
    const env = configFile('# where the CLI goes\nserver:   localhost:7070\n');
    const err = await withConfig(env, async (io) => expect(await main(['status'], io)).toBe(EXIT.usage));
    expect(err).toContain(
      `${env['AUGUR_CONFIG']}:2:11  server must be an http(s) URL such as http://127.0.0.1:7070, got "localhost:7070"`,
    );
    const withPassword = configRefusal(
      configFile('token: augur_x\nserver: http://me:s3cret@augur.example\n'),
    );
    expect(withPassword.report).toMatch(/config-\d+\.yaml:2:9 {2}server must not hold credentials/);
    expect(withPassword.report).not.toContain('s3cret');
  });

  it('sends no token from the flag or the environment to a server that others may write into it', async () => {
    let requests = 0;
    const listener = createServer((_req, res) => {
      requests++;
      res.setHeader('content-type', 'application/json');
      res.end('{"releases":[]}');
    });
    await new Promise<void>((ready) => listener.listen(0, '127.0.0.1', ready));
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    try {
      for (const mode of [0o666, 0o620, 0o602]) {
        const env = configFile(`server: ${url}\n`, mode);
        const fromEnv = refusal({ env: { ...env, AUGUR_TOKEN: 'augur_users-own-token' } });
        expect(fromEnv).toBeInstanceOf(ConfigInvalidError);
        expect((fromEnv as ConfigInvalidError).report).toBe(
          `${env['AUGUR_CONFIG']}: gives the server that AUGUR_TOKEN would be sent to, but others may change it ` +
            `(mode ${mode.toString(8)}): run chmod go-w ${env['AUGUR_CONFIG']}; nothing was sent`,
        );
        expect((refusal({ env, token: 'augur_x' }) as ConfigInvalidError).report).toMatch(
          /that --token would/,
        );
        // The whole command: exit 2, and the server heard nothing.
        const err = await withConfig(env, async (io) =>
          expect(await main(['status', '--token', 'augur_users-own-token'], io)).toBe(EXIT.usage),
        );
        expect(err).toMatch(/others may change it/);
        expect(err).not.toContain('augur_users-own-token');
      }
      expect(requests).toBe(0);
      // No token to send: the address alone is harmless. Readable by others but writable by the
      // user alone: trusted.
      expect(resolveTarget({ env: configFile(`server: ${url}\n`, 0o666) }).token).toBeUndefined();
      const readable = configFile(`server: ${url}\n`, 0o644);
      expect(resolveTarget({ env: { ...readable, AUGUR_TOKEN: 'augur_t' } })).toMatchObject({
        url,
        token: 'augur_t',
      });
      // A flag or variable naming the server leaves the file out of it.
      const writable = configFile(`server: ${url}\n`, 0o666);
      expect(resolveTarget({ env: { ...writable, AUGUR_TOKEN: 'augur_t' }, server: url }).token).toBe(
        'augur_t',
      );
    } finally {
      listener.close();
    }
  });

  it.skipIf(process.getuid?.() !== 0)(
    'trusts no server from a file of another user (needs root to chown)',
    () => {
      const env = configFile('server: http://127.0.0.1:9\n', 0o644);
      chownSync(env['AUGUR_CONFIG'] as string, 65_534, 65_534);
      const error = refusal({ env: { ...env, AUGUR_TOKEN: 'augur_users-own-token' } }) as ConfigInvalidError;
      expect(error.report).toMatch(/but it belongs to another user \(uid 65534\); nothing was sent/);
    },
  );
});

/** Runs `body` with $AUGUR_CONFIG set as in `env`; returns what it wrote to stderr. */
async function withConfig(
  env: NodeJS.ProcessEnv,
  body: (io: { out: () => void; err: (text: string) => void; isTty: boolean }) => Promise<void>,
): Promise<string> {
  let err = '';
  const io = { out: () => undefined, err: (text: string) => void (err += text), isTty: false };
  const saved = process.env['AUGUR_CONFIG'];
  process.env['AUGUR_CONFIG'] = env['AUGUR_CONFIG'];
  try {
    await body(io);
  } finally {
    if (saved === undefined) delete process.env['AUGUR_CONFIG'];
    else process.env['AUGUR_CONFIG'] = saved;
  }
  return err;
}

describe('answers that are not from Augur', () => {
  it('are reported as such instead of crashing a command half-way', async () => {
    const foreign = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"releases":[{"name":"x","services":"none"}],"hello":1}');
    });
    await new Promise<void>((ready) => foreign.listen(0, '127.0.0.1', ready));
    const url = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    try {
      for (const args of [['status'], ['status', 'x'], ['pause', 'x'], ['status', '--json']]) {
        let err = '';
        const io = { out: () => undefined, err: (text: string) => void (err += text), isTty: false };
        expect(await main([...args, '--server', url, '--token', 't'], io), args.join(' ')).toBe(EXIT.failure);
        expect(err).toMatch(/with JSON that Augur's API does not send \(.+\).*\[NOT_AUGUR\]/);
        expect(err).not.toMatch(/unexpected error|TypeError/);
      }
    } finally {
      foreign.close();
    }
  });
});

describe('a token over plain http', () => {
  const target = (url: string, token: string | undefined): ServerTarget => ({
    url,
    token,
    source: '--server',
  });

  it('warns when the token would leave the machine unencrypted', () => {
    const warning = cleartextTokenWarning(target('http://augur.example:7070', 'secret-token'));
    expect(warning).toMatch(
      /^warning: the token goes to http:\/\/augur\.example:7070 \(from --server\) over plain http/,
    );
    expect(warning).not.toContain('secret-token');
    expect(cleartextTokenWarning(target('http://10.0.0.5:7070', 't'))).not.toBeNull();
  });

  it('stays quiet for https, for loopback, and without a token', () => {
    expect(cleartextTokenWarning(target('https://augur.example', 't'))).toBeNull();
    for (const url of ['http://127.0.0.1:7070', 'http://localhost:7070', 'http://[::1]:7070'])
      expect(cleartextTokenWarning(target(url, 't'))).toBeNull();
    expect(cleartextTokenWarning(target('http://augur.example:7070', undefined))).toBeNull();
  });
});
