import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoApplicationYaml, echoReleaseYaml } from '../../src/testing/echo-app.js';
import { augur, Background, freePort, hit, processesOf } from './helpers.js';

interface View {
  readonly name: string;
  readonly phase: string;
  readonly services: readonly { service: string; phase: string; tier: number | null }[];
}

/** The echo application on free ports, a release declaring v2, and a release with a foreign command. */
async function files(dir: string): Promise<{ app: string; foreign: string; back: string; port: number }> {
  const port = await freePort();
  const stateDir = join(dir, 'state');
  const app = join(dir, 'echo.yaml');
  writeFileSync(
    app,
    `${echoApplicationYaml({ stateDir, port })}---\n${echoReleaseYaml({
      name: 'echo-v2',
      tiers: '[10, 50, 100]',
      bake: '{ minDuration: 1s, minRequests: 20 }',
      monitoring: '{ interval: 300ms, warningInterval: 100ms }',
    })}`,
  );
  const foreign = join(dir, 'foreign.yaml');
  writeFileSync(
    foreign,
    `apiVersion: augur/v1alpha1
kind: Release
metadata: { name: echo-evil }
spec:
  application: echo
  changes:
    - { service: echo, revision: v9, command: [sh, -c, "touch ${dir}/pwned"] }
`,
  );
  // Back to v1 once v2 is stable: a declared revision, so no command is needed.
  const back = join(dir, 'back.yaml');
  writeFileSync(
    back,
    `apiVersion: augur/v1alpha1
kind: Release
metadata: { name: echo-back }
spec:
  application: echo
  changes: [{ service: echo, revision: v1 }]
  tiers: [5, 100]
  bake: { minDuration: 1h, minRequests: 1000000 }
  monitoring: { interval: 300ms }
`,
  );
  return { app, foreign, back, port };
}

describe('augur server, tokens and the remote CLI (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'augur-e2e-server-'));
  let paths: Awaited<ReturnType<typeof files>>;
  let server: Background;
  let url = '';
  let operator = '';
  let viewer = '';

  beforeAll(async () => {
    paths = await files(dir);
    const apiPort = await freePort();
    server = new Background(['server', paths.app, '--port', String(apiPort)]);
    await server.waitFor(/is serving/);
    url = `http://127.0.0.1:${apiPort}`;
    expect(server.output).toContain(`API          ${url}`);
    const op = await augur(['token', 'create', '--role', 'operator', '--name', 'ci', paths.app]);
    expect(op.code).toBe(0);
    operator = op.stdout.trim();
    const view = await augur(['token', 'create', '--role', 'viewer', paths.app]);
    viewer = view.stdout.trim();
    expect(operator).toMatch(/^augur_[\w-]{43}$/);
    expect(viewer).toMatch(/^augur_[\w-]{43}$/);
  }, 60_000);

  afterAll(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    for (const pid of processesOf(join(dir, 'state'))) process.kill(-pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const remote = (token: string): string[] => ['--server', url, '--token', token];

  it('lists tokens without their secrets', async () => {
    const list = await augur(['token', 'list', paths.app, '--json']);
    expect(list.code).toBe(0);
    const tokens = JSON.parse(list.stdout) as { name: string; role: string }[];
    expect(tokens.map((t) => t.role)).toEqual(['operator', 'viewer']);
    expect(tokens[0]?.name).toBe('ci');
    expect(list.stdout).not.toContain(operator.slice(6));
    expect(list.stdout).not.toContain('hash');
  });

  it('refuses mutations without a token (401) and with a viewer token (403)', async () => {
    const mutations: [string, string, unknown][] = [
      ['POST', '/api/v1/releases', { kind: 'Release' }],
      ...['pause', 'resume', 'promote', 'abort', 'rollback'].map((action): [string, string, unknown] => [
        'POST',
        '/api/v1/releases/echo-v2/actions',
        { action },
      ]),
      ['PUT', '/api/v1/services/echo/traffic', { revision: 'v2', weight: 50 }],
    ];
    for (const [method, path, body] of mutations) {
      const send = (token?: string): Promise<Response> =>
        fetch(`${url}${path}`, {
          method,
          headers: {
            'content-type': 'application/json',
            ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        });
      expect((await send()).status, `${method} ${path}`).toBe(401);
      expect((await send('augur_unknown')).status, `${method} ${path}`).toBe(401);
      expect((await send(viewer)).status, `${method} ${path}`).toBe(403);
    }
    // The CLI says the same, with exit code 1.
    const anonymous = await augur(['rollout', paths.app, '--server', url]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/UNAUTHORIZED/);
    for (const action of ['pause', 'resume', 'promote', 'abort', 'rollback']) {
      const refused = await augur([action, 'echo-v2', ...remote(viewer)]);
      expect(refused.code, action).toBe(1);
      expect(refused.stderr).toMatch(/needs a token with the operator role.*\[FORBIDDEN\]/);
    }
    const submit = await augur(['rollout', paths.app, ...remote(viewer)]);
    expect(submit.code).toBe(1);
    expect(submit.stderr).toMatch(/FORBIDDEN/);
    const status = await augur(['status', ...remote(viewer), '--json']);
    expect(JSON.parse(status.stdout)).toEqual({ releases: [] });
  });

  it('refuses a release whose command is not in the server’s files', async () => {
    const refused = await augur(['rollout', paths.foreign, ...remote(operator)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not in the server's configuration files.*\[COMMAND_NOT_ALLOWED\]/);
  });

  it('submits a release, follows its events, and ends when an operator promotes it', async () => {
    const run = new Background(['rollout', paths.app, ...remote(operator)]);
    await run.waitFor(/echo v2: tier 10%/);
    // The tier starts before the router confirms its weight: send the requests once it has.
    for (let i = 0; i < 30; i++) {
      const view = await augur(['status', 'echo-v2', ...remote(viewer)]);
      if (/\(10%\)\s+10%\s/.test(view.stdout)) break;
      await sleep(100);
    }
    const served = await hit(
      paths.port,
      Array.from({ length: 200 }, (_, i) => `user-${i}`),
    );
    expect(served.get(200)).toBe(200);
    const promoted = await augur(['promote', 'echo-v2', ...remote(operator)]);
    expect(promoted.stdout).toMatch(/^echo-v2: (running|promoted) \(echo (promoting|promoted)/);
    expect(promoted.code).toBe(0);
    expect(await run.exited).toBe(0);
    expect(run.output).toMatch(/submitted release echo-v2/);
    expect(run.output).toMatch(/ci: promote/);
    expect(run.output).toMatch(/echo v2 is now stable/);
    expect(run.output).toMatch(/^echo-v2: promoted$/m);

    const status = await augur(['status', ...remote(viewer)]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/echo-v2\s+promoted\s+echo\s+v1→v2\s+3\/3 \(100%\)\s+100%\s+promoted/);
    const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${viewer}` } });
    const text = await metrics.text();
    expect(text).toMatch(/^augur_requests_total\{service="echo",revision="v2",outcome="ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^augur_releases\{phase="promoted"\} 1$/m);
    // Submitting it again reports how it ended, with its exit code.
    const again = await augur(['rollout', paths.app, ...remote(operator)]);
    expect(again.stderr).toMatch(/release echo-v2 already ended \(promoted\)/);
    expect(again.code).toBe(0);
  }, 60_000);

  it('pauses, resumes and aborts a release through the CLI; rollout and status -w follow it', async () => {
    const detached = await augur(['rollout', paths.back, ...remote(operator), '--detach', '--json']);
    expect(detached.code).toBe(0);
    expect((JSON.parse(detached.stdout) as View[])[0]).toMatchObject({ name: 'echo-back', phase: 'running' });

    const follow = new Background(['rollout', paths.back, ...remote(operator)]);
    await follow.waitFor(/echo-back exists already and is running: following it/);
    const watch = new Background(['status', 'echo-back', '-w', ...remote(viewer)]);
    await watch.waitFor(/echo-back\s+running/);

    const paused = await augur(['pause', 'echo-back', ...remote(operator)]);
    expect(paused.stdout).toMatch(/echo-back: running \(echo paused at 5%\)/);
    expect(paused.code).toBe(0);
    await watch.waitFor(/ci: pause/);
    const twice = await augur(['pause', 'echo-back', ...remote(operator)]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/cannot pause echo-back: echo is paused \[CONFLICT\]/);

    const resumed = await augur(['resume', 'echo-back', '--service', 'echo', ...remote(operator), '--json']);
    expect(resumed.code).toBe(0);
    expect((JSON.parse(resumed.stdout) as View).services[0]?.phase).toBe('progressing');

    const aborted = await augur(['abort', 'echo-back', ...remote(operator)]);
    expect(aborted.code).toBe(0);
    expect(await follow.exited).toBe(4);
    expect(follow.output).toMatch(/^echo-back: aborted$/m);
    await watch.waitFor(/echo-back\s+aborted/);
    watch.child.kill('SIGINT');
    expect(await watch.exited).toBe(0);

    const one = await augur(['status', 'echo-back', ...remote(viewer), '--json']);
    expect(JSON.parse(one.stdout)).toMatchObject({ release: { name: 'echo-back', phase: 'aborted' } });
    const late = await augur(['promote', 'echo-back', ...remote(operator)]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/not running \(aborted\)/);
  }, 60_000);

  it('finds the local server through the Application file, with its admin token', async () => {
    const local = await augur(['status', '-f', paths.app]);
    expect(local.code).toBe(0);
    expect(local.stdout).toMatch(/echo-back\s+aborted/);
    const missing = await augur(['status', 'nope', '-f', paths.app]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no release named nope \[NOT_FOUND\]/);
  });

  it('takes the server and the token from the CLI configuration file, mode 600 only', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `server: ${url}\ntoken: ${viewer}\n`, { mode: 0o600 });
    const env = { AUGUR_CONFIG: config, AUGUR_TOKEN: '', AUGUR_SERVER: '' };
    const listed = await augur(['status', '--json'], 60_000, env);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { releases: View[] }).releases.map((v) => v.name)).toContain(
      'echo-back',
    );
    // The viewer token of the file reaches the server: an action needs more.
    const refused = await augur(['pause', 'echo-back'], 60_000, env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/needs a token with the operator role.*\[FORBIDDEN\]/);
    chmodSync(config, 0o644);
    const readable = await augur(['status'], 60_000, env);
    expect(readable.code).toBe(2);
    expect(readable.stderr).toContain(`${config}: holds a token but others may read it (mode 644)`);
    expect(readable.stderr).not.toContain(viewer);
  });

  it('stops cleanly on SIGINT, leaving no process behind', async () => {
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(server.output).toMatch(/no process left running/);
    expect(processesOf(join(dir, 'state'))).toEqual([]);
    const gone = await augur(['status', '-f', paths.app]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/no running Augur found/);
  });
});

describe('augur server --json', () => {
  it('prints where it listens first, then its events, then stopped, as JSON lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'augur-e2e-server-json-'));
    try {
      const paths = await files(dir);
      const apiPort = await freePort();
      const server = new Background(['server', paths.app, '--port', String(apiPort), '--json']);
      try {
        await server.waitFor(/"type":"ready"/);
        const ready = JSON.parse(server.stdout.split('\n')[0] ?? '') as Record<string, unknown>;
        expect(ready).toMatchObject({
          type: 'ready',
          application: 'echo',
          api: `http://127.0.0.1:${apiPort}`,
          dashboard: `http://127.0.0.1:${apiPort}/`,
          resumed: [],
        });
        server.child.kill('SIGINT');
        expect(await server.exited).toBe(0);
        const docs = server.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { type: string });
        expect(docs.at(-1)).toEqual({ type: 'stopped' });
        expect(server.stdout).not.toContain('Press Ctrl-C');
      } finally {
        if (server.child.exitCode === null) server.child.kill('SIGKILL');
        await server.exited;
      }
    } finally {
      for (const pid of processesOf(join(dir, 'state'))) process.kill(-pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
