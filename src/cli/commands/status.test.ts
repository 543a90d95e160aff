import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../command.js';
import { main } from '../main.js';
import { status } from './status.js';

/** A release as the API lists it, at `weight` percent. */
const release = (weight: number): Record<string, unknown> => ({
  name: 'cart-v2',
  phase: 'running',
  lastSequence: 1,
  services: [
    {
      service: 'cart',
      stable: 'v1',
      canary: 'v2',
      phase: 'observing',
      tier: weight,
      tierIndex: 0,
      tiers: [1, 5, 100],
      weight,
      targetWeight: weight,
      reason: null,
      risk: null,
    },
  ],
});

describe('augur status -w without a terminal', () => {
  it('prints the table again only when it has changed', async () => {
    let weight = 1;
    let stream: ServerResponse | null = null;
    const server = createServer((req, res) => {
      if (req.url === '/api/v1/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': open\n\n');
        stream = res;
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ releases: [release(weight)] }));
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let out = '';
    const io = { out: (text: string) => void (out += text), err: () => undefined, isTty: false };
    const stop = new AbortController();
    const values = { watch: true, server: url, token: 'augur_t', json: undefined, file: undefined };
    const running = status.run({ values, positionals: [], io, signal: stop.signal });
    try {
      const event = async (n: number): Promise<void> => {
        while (stream === null) await sleep(10);
        stream.write(`id: ${n}\nevent: decision\ndata: {}\n\n`);
        await sleep(400); // longer than status waits to gather events before rendering
      };
      await event(1);
      await event(2); // nothing changed: nothing printed
      weight = 5;
      await event(3);
      await event(4);
      stop.abort();
      expect(await running).toBe(EXIT.ok);
    } finally {
      server.closeAllConnections();
      server.close();
    }
    const tables = out.split(/^\d\d:\d\d:\d\d {2}\(Ctrl-C stops watching\)\n/m).filter((t) => t !== '');
    expect(tables).toHaveLength(2);
    expect(tables[0]).toMatch(/cart-v2\s+running\s+cart\s+v1→v2\s+1\/3 \(1%\)\s+1%/);
    expect(tables[1]).toMatch(/cart-v2\s+running\s+cart\s+v1→v2\s+1\/3 \(5%\)\s+5%/);
  });
});

describe('augur status without a server', () => {
  it('says every way to give one', async () => {
    let err = '';
    const io = { out: () => undefined, err: (text: string) => void (err += text), isTty: false };
    const names = ['AUGUR_SERVER', 'AUGUR_CONFIG', 'XDG_CONFIG_HOME'] as const;
    const saved = { cwd: process.cwd(), env: names.map((n) => [n, process.env[n]] as const) };
    for (const n of names) delete process.env[n];
    process.env['XDG_CONFIG_HOME'] = '/nonexistent/augur-status-test';
    process.chdir('/');
    try {
      expect(await main(['status'], io)).toBe(EXIT.failure);
    } finally {
      process.chdir(saved.cwd);
      for (const [n, v] of saved.env) {
        if (v === undefined) delete process.env[n];
        else process.env[n] = v;
      }
    }
    expect(err).toMatch(
      /^augur status: no server given: use --server URL, or set AUGUR_SERVER, or put `server:` in the CLI configuration file \(\/nonexistent\/augur-status-test\/augur\/config\.yaml\), or give -f FILE .*, or run the command in the directory where one runs \(its \.\/\.augur\) \[NO_SERVER\]\n$/,
    );
  });
});
