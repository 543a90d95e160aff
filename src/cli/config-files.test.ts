import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from './command.js';
import { ConfigInvalidError, loadFiles } from './config-files.js';
import { main } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'augur-serve-files-'));
/** A process that runs until killed, standing for the Augur already running. */
const running = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
/** A port held the way that Augur's router holds its services' ports. */
const holder = net.createServer();
let busy = 0;

beforeAll(async () => {
  await new Promise<void>((ready) => holder.listen({ port: 0, host: '127.0.0.1' }, ready));
  busy = (holder.address() as net.AddressInfo).port;
});
afterAll(async () => {
  running.kill('SIGKILL');
  await new Promise((closed) => holder.close(closed));
  rmSync(dir, { recursive: true, force: true });
});

/** An Application whose one service listens on the busy port, with its own state directory. */
function application(name: string): { file: string; stateDir: string } {
  const stateDir = join(dir, `${name}-state`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      'apiVersion: augur/v1alpha1',
      'kind: Application',
      `metadata: { name: ${name} }`,
      'spec:',
      '  entrypoint: a',
      `  stateDir: ${stateDir}`,
      '  services:',
      `    a: { port: ${busy}, stable: v1, revisions: { v1: { command: [node, a.js] } } }`,
      '',
    ].join('\n'),
  );
  return { file, stateDir };
}

function io(): { out: () => void; err: (text: string) => void; isTty: boolean; text: () => string } {
  let err = '';
  return { out: () => undefined, err: (text) => void (err += text), isTty: false, text: () => err };
}

describe('loading the files of a command that runs the application', () => {
  it('says another Augur runs in the state directory before probing its ports', async () => {
    const { file, stateDir } = application('locked');
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, 'augur.lock'), `${running.pid}\n`);
    await expect(loadFiles([file], { serve: true })).rejects.toMatchObject({
      code: 'STATE_LOCKED',
      message: expect.stringContaining(
        `an Augur (pid ${running.pid}) is already running in ${stateDir}`,
      ) as unknown,
    });
    for (const args of [
      ['up', file],
      ['server', file, '--port', '0'],
    ]) {
      const out = io();
      expect(await main(args, out), args[0]).toBe(EXIT.usage);
      expect(out.text()).toBe(
        `augur ${args[0]}: an Augur (pid ${running.pid}) is already running in ${stateDir}: stop it first ` +
          `(Ctrl-C where it runs, or kill ${running.pid}), or give this application another spec.stateDir [STATE_LOCKED]\n`,
      );
    }
  });

  it('reports busy ports when no Augur holds the state directory', async () => {
    const { file } = application('free');
    const error = await loadFiles([file], { serve: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).report).toMatch(
      /:8:16 {2}error {2}spec\.services\.a\.port {2}port \d+ of service a is already in use/,
    );
    // Commands that do not run the application do not probe.
    await expect(loadFiles([file])).resolves.toMatchObject({ application: { name: 'free' } });
  });
});
