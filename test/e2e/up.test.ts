import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsReportBody } from '../../src/server/metrics-report.js';
import { augur, Background, hit, processesOf, shopApplication } from './helpers.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('augur up, traffic and metrics with the real shop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'augur-e2e-up-'));
  const stateDir = join(dir, 'state');
  const file = join(dir, 'shop.yaml');
  const running: Background[] = [];

  beforeAll(async () => {
    writeFileSync(file, await shopApplication(stateDir));
  });

  // A failed test must not leave its Augur (or the services) holding the ports for the next one.
  afterEach(async () => {
    for (const b of running.splice(0)) {
      if (b.child.exitCode === null) {
        b.child.kill('SIGKILL');
        await b.exited;
      }
    }
    for (const pid of processesOf(stateDir)) process.kill(-pid, 'SIGKILL');
    await sleep(100);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the shop, splits 1% to the canary, survives SIGKILL without orphans, and stops cleanly', async () => {
    const first = new Background(['up', file]);
    running.push(first);
    await first.waitFor(/is up/);
    const entry = Number(/frontend\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(first.output)?.[1]);
    expect(processesOf(stateDir)).toHaveLength(5); // 2 frontend + catalog + cart + payments

    // A second Augur in the same state directory says so, before it binds anything.
    for (const args of [
      ['up', file],
      ['server', file, '--port', '0'],
    ]) {
      const second = await augur(args);
      expect(second.code, args[0]).toBe(2);
      expect(second.stderr).toContain(
        `augur ${args[0]}: an Augur (pid ${first.child.pid}) is already running in ${stateDir}: stop it first`,
      );
      expect(second.stderr).not.toMatch(/port \d+ .* in use/);
    }

    const traffic = await augur(['traffic', file, '--service', 'cart', '--revision', 'v2', '--weight', '1']);
    expect(traffic.stderr).toBe('');
    expect(traffic.stdout).toMatch(/cart: 1% → v2, 99% → v1/);
    expect(traffic.code).toBe(0);
    const json = await augur([
      'traffic',
      file,
      '--service',
      'cart',
      '--revision',
      'v2',
      '--weight',
      '1',
      '--json',
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      service: 'cart',
      stable: 'v1',
      canary: 'v2',
      canaryWeight: 100,
      canaryPercent: 1,
    });
    // A revision the application does not have is bad input, as the server says.
    const unknown = await augur(['traffic', file, '--service', 'cart', '--revision', 'v9', '--weight', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^augur traffic: service cart has no revision "v9".*\[UNKNOWN_REVISION\]\n$/,
    );

    const n = 4000;
    const statuses = await hit(
      entry,
      Array.from({ length: n }, (_, i) => `user-${i}`),
    );
    expect(statuses.get(200)).toBe(n);

    const metrics = await augur(['metrics', file, '--service', 'cart', '--json']);
    expect(metrics.code).toBe(0);
    const report = JSON.parse(metrics.stdout) as MetricsReportBody;
    const v1 = report.rows.find((r) => r.revision === 'v1');
    const v2 = report.rows.find((r) => r.revision === 'v2');
    expect((v1?.requests ?? 0) + (v2?.requests ?? 0)).toBe(n);
    const sd = Math.sqrt(n * 0.01 * 0.99);
    expect(Math.abs((v2?.requests ?? 0) - n * 0.01)).toBeLessThan(4.5 * sd);
    expect(v2).toMatchObject({ role: 'canary', weightPercent: 1, errors: 0 });
    // The default 60-s window reaches back before this server started: the rate is over what it saw.
    const spanS = (report.to - report.from) / 1000;
    expect(spanS).toBeLessThan(60);
    expect(v1?.rps).toBeGreaterThan((v1?.requests ?? 0) / (spanS + 1));
    const table = await augur(['metrics', file]);
    expect(table.stdout).toMatch(/cart\s+v2\s+canary\s+1\.00%/);
    expect(table.stdout).toMatch(/window: the last \d+ s \(since the server started/);

    // Kill Augur outright: its processes outlive it...
    const orphans = processesOf(stateDir);
    expect(orphans).toHaveLength(6); // the canary's replica joined
    first.child.kill('SIGKILL');
    await first.exited;
    expect(orphans.every(alive)).toBe(true);

    // ...until the next Augur on the same state directory stops them and restores the split.
    const second = new Background(['up', file]);
    running.push(second);
    await second.waitFor(/is up/);
    expect(second.output).toMatch(/stopped orphan of an earlier run/);
    expect(orphans.some(alive)).toBe(false);
    expect(second.output).toMatch(/traffic\s+cart: 1% → v2, 99% → v1 \(restored\)/);
    const again = await hit(entry, ['after-restart']);
    expect(again.get(200)).toBe(1);

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(second.output).toMatch(/no process left running/);
    expect(processesOf(stateDir)).toEqual([]);
  }, 120_000);

  it('prints JSON lines with --json: where everything listens, the events, then stopped', async () => {
    const run = new Background(['up', file, '--json']);
    running.push(run);
    await run.waitFor(/"type":"ready"/);
    const ready = JSON.parse(run.stdout.split('\n')[0] ?? '') as {
      application: string;
      api: string;
      dashboard: string;
      services: { service: string; url: string; stable: string; entrypoint: boolean }[];
    };
    expect(ready.application).toBe('shop');
    expect(ready.dashboard).toBe(`${ready.api}/`);
    const entry = ready.services.find((s) => s.entrypoint);
    expect(entry).toMatchObject({ service: 'frontend', stable: 'v1' });
    expect((await fetch(`${entry?.url}/`)).status).toBe(200);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const docs = lines.map((line) => JSON.parse(line) as { type: string; event?: { type: string } });
    expect(docs[0]?.type).toBe('ready');
    expect(docs.at(-1)).toEqual({ type: 'stopped' });
    expect(docs.slice(1, -1).every((d) => d.type === 'plane' && typeof d.event?.type === 'string')).toBe(
      true,
    );
    // The human lines stay off stdout.
    expect(run.stdout).not.toContain('Press Ctrl-C');
  }, 60_000);

  it('refuses a mutation without the admin token', async () => {
    const b = new Background(['up', file]);
    running.push(b);
    await b.waitFor(/control API\s+(http:\S+)/);
    const api = /control API\s+(http:\S+)/.exec(b.output)?.[1] ?? '';
    expect(b.output).toContain(`  dashboard    ${api}/\n`);
    const put = (auth?: string): Promise<Response> =>
      fetch(`${api}/api/v1/services/cart/traffic`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          ...(auth !== undefined ? { authorization: auth } : {}),
        },
        body: JSON.stringify({ revision: 'v2', weight: 50 }),
      });
    expect((await put()).status).toBe(401);
    expect((await put('Bearer wrong')).status).toBe(401);
    const status = (await (await fetch(`${api}/api/v1/status`)).json()) as {
      services: { name: string; split: { canaryWeight: number } }[];
    };
    expect(status.services.find((s) => s.name === 'cart')?.split.canaryWeight).toBe(100);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 60_000);

  it('tells the user when no Augur is running', async () => {
    const r = await augur(['traffic', file, '--service', 'cart', '--revision', 'v2', '--weight', '5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no running Augur found .*augur up FILE/);
  });
});
