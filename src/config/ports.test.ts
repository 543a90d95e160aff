import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfiguration } from './load.js';
import { checkPortsFree } from './ports.js';

const SHOP = fileURLToPath(new URL('../../test/fixtures/config/shop.yaml', import.meta.url));

/** Holds a port on 127.0.0.1 the way another process would. */
let holder: net.Server;
let busy: number;

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  holder = net.createServer();
  busy = await listen(holder);
});
afterAll(async () => {
  await new Promise((resolve) => holder.close(resolve));
});

describe('checkPortsFree', () => {
  it('reports a port already bound, at the port key of the application file', async () => {
    const result = await loadConfiguration([SHOP]);
    if (!result.ok) throw new Error('shop.yaml must be valid');
    const { application } = result.value;
    const frontend = application.services['frontend'];
    if (frontend === undefined) throw new Error('no frontend');
    const config = {
      ...result.value,
      application: { ...application, services: { frontend: { ...frontend, port: busy } } },
    };
    expect(await checkPortsFree(config)).toEqual([
      {
        file: SHOP,
        line: 9,
        column: 13,
        path: ['spec', 'services', 'frontend', 'port'],
        code: 'port_in_use',
        message: `port ${busy} of service frontend is already in use on 127.0.0.1`,
      },
    ]);
  });
});

describe('loadConfiguration with checkPorts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'augur-ports-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('probes only when asked, and reports busy ports with the other issues', async () => {
    const free = await freePort();
    const file = path.join(dir, 'augur.yaml');
    await writeFile(
      file,
      [
        'apiVersion: augur/v1alpha1',
        'kind: Application',
        'metadata: { name: ports }',
        'spec:',
        '  entrypoint: a',
        '  services:',
        `    a: { port: ${free}, stable: v1, revisions: { v1: { command: [a] } } }`,
        `    b: { port: ${busy}, stable: v1, revisions: { v1: { command: [b] } } }`,
        '',
      ].join('\n'),
    );
    expect((await loadConfiguration([file])).ok).toBe(true);
    const checked = await loadConfiguration([file], { checkPorts: true });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.error).toMatchObject([
      { file, line: 8, column: 16, path: ['spec', 'services', 'b', 'port'], code: 'port_in_use' },
    ]);
  });
});
