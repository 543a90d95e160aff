import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Browser, Dialog, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from '../../src/server/routes/dashboard.js';
import { echoApplicationYaml, echoReleaseYaml } from '../../src/testing/echo-app.js';
import { augur, Background, freePort, processesOf } from './helpers.js';

/** Debian's Chromium (CI installs it); no browser is ever downloaded. */
const CHROMIUM = process.env['AUGUR_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** What the release's mitigation check prints: markup the page must show as text. */
const MARKUP = `<img src=x onerror="window.__pwned=1"><b>bold</b>`;

const NO_CHROMIUM =
  `Chromium is not installed at ${CHROMIUM}: the dashboard test needs a real browser ` +
  '(apt-get install -y chromium; .ci/run installs it), or AUGUR_CHROMIUM=/path/to/chromium';

// A missing browser fails the run (CI installs one); it is never a reason to skip.
it('has a Chromium to drive', () => {
  expect(existsSync(CHROMIUM), NO_CHROMIUM).toBe(true);
});

describe('the dashboard, in a real browser against a real `augur server`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'augur-e2e-dashboard-'));
  let server: Background;
  let browser: Browser;
  let page: Page;
  let url = '';
  let viewer = '';
  let operator = '';
  let release = '';
  const pageErrors: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(NO_CHROMIUM);
    const stateDir = join(dir, 'state');
    // Backs up nothing, and its check passes saying MARKUP.
    const data = join(dir, 'data.js');
    writeFileSync(data, `console.log(${JSON.stringify(MARKUP)});\n`);
    release = echoReleaseYaml({
      name: 'echo-v2',
      tiers: '[10, 50, 100]',
      // Never baked: the release waits at its first tier for the operator.
      bake: '{ minDuration: 1h, minRequests: 1000000 }',
      monitoring: '{ interval: 300ms }',
      extra: `  mitigations:\n    - { name: verify, backup: { command: [node, ${data}] }, check: { command: [node, ${data}] } }\n`,
    });
    const app = join(dir, 'echo.yaml');
    writeFileSync(app, `${echoApplicationYaml({ stateDir, port: await freePort() })}---\n${release}`);
    const apiPort = await freePort();
    url = `http://127.0.0.1:${apiPort}`;
    server = new Background(['server', app, '--port', String(apiPort)]);
    const launched = chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    await server.waitFor(/is serving/);
    expect(server.output).toContain(`API          ${url}\n`);
    expect(server.output).toContain(`dashboard    ${url}/`);
    const op = await augur(['token', 'create', '--role', 'operator', '--name', 'ops', app]);
    expect(op.code, op.stderr).toBe(0);
    const view = await augur(['token', 'create', '--role', 'viewer', '--name', 'watcher', app]);
    expect(view.code, view.stderr).toBe(0);
    operator = op.stdout.trim();
    viewer = view.stdout.trim();
    browser = await launched;
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (/Content.Security.Policy|Trusted Type/i.test(message.text())) violations.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (server !== undefined && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    for (const pid of processesOf(join(dir, 'state'))) process.kill(-pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Answers the next confirmation dialog. */
  const nextDialog = (answer: 'accept' | 'dismiss'): Promise<string> =>
    new Promise((resolve) => {
      page.once('dialog', (dialog: Dialog) => {
        const text = dialog.message();
        void (answer === 'accept' ? dialog.accept() : dialog.dismiss()).then(() => resolve(text));
      });
    });

  const card = (): ReturnType<Page['locator']> => page.locator('article[data-release="echo-v2"]');
  const row = (): ReturnType<Page['locator']> => card().locator('tr[data-service="echo"]');

  it('serves the page with a strict policy, and asks for a token where reads need one', async () => {
    const response = await page.goto(`${url}/`);
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    await expect.poll(() => page.locator('#identity').textContent()).toMatch(/needs a token to read/);
    expect(await page.locator('#token-form').isVisible()).toBe(true);
    // The token form's button is the only action offered.
    expect(await page.locator('button.act').count()).toBe(0);
  });

  it('shows the services and a release submitted meanwhile, with its tier and state, live', async () => {
    await page.fill('#token-input', viewer);
    await page.click('#token-form button[type="submit"]');
    await expect.poll(() => page.locator('#identity').textContent()).toMatch(/watcher \(viewer\)/);
    expect(await page.evaluate<unknown>('sessionStorage.getItem("augur.token")')).toBe(viewer);
    expect(await page.evaluate<unknown>('localStorage.length + document.cookie.length')).toBe(0);
    const service = page.locator('#services tr[data-service="echo"]');
    await expect.poll(() => service.textContent()).toMatch(/echo.*v1/);
    await expect.poll(() => page.locator('#connection').textContent()).toBe('live');

    const submitted = await fetch(`${url}/api/v1/releases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/yaml' },
      body: release,
    });
    expect(submitted.status, await submitted.text()).toBe(201);

    // No reload: the event stream brings it.
    await card().waitFor({ timeout: 10_000 });
    expect(await card().getAttribute('data-phase')).toBe('running');
    await expect.poll(() => row().locator('td.tier').textContent()).toBe('10% of [10, 50, 100]');
    await expect.poll(() => row().textContent(), { timeout: 10_000 }).toMatch(/v1 → v2/);
    // No traffic, no decision: the controller observes.
    await expect.poll(() => row().locator('td.state').textContent()).toBe('OBSERVE');
    expect(await row().locator('td.decision').textContent()).toBe('no decision yet');
    await expect.poll(() => service.textContent()).toMatch(/v2.*10%/);
    // A viewer steers nothing.
    expect(await page.locator('button.act').count()).toBe(0);
    // Its log streams in: stored events first.
    await page.locator('#log li[data-type="release-started"]').waitFor();
    await expect.poll(() => page.locator('#log-status').textContent()).toBe('live');
  });

  it('steers the release with an operator token: errors shown, confirmations asked, events live', async () => {
    await page.click('#forget-token');
    await page.fill('#token-input', operator);
    await page.click('#token-form button[type="submit"]');
    await expect.poll(() => page.locator('#identity').textContent()).toMatch(/ops \(operator\)/);
    await card().locator('button[data-action="pause"]').waitFor();

    // The API's refusal is shown on the page.
    await card().locator('button[data-action="resume"]').click();
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/cannot resume echo-v2.*CONFLICT/);

    const before = await page.locator('#log li').count();
    await card().locator('button[data-action="pause"]').click();
    await expect.poll(() => row().locator('.phase').textContent()).toBe('paused');
    expect(await row().locator('td.state').textContent()).toBe('HOLD');
    expect(await row().locator('td.decision').textContent()).toMatch(/echo: paused by ops/);
    // The event arrives over the open stream.
    const paused = page.locator('#log li[data-type="paused"]');
    await paused.waitFor();
    expect(await paused.textContent()).toMatch(/echo: paused by ops/);
    expect(await page.locator('#log li').count()).toBeGreaterThan(before);

    // A promotion asks first; declined, nothing happens.
    const declined = nextDialog('dismiss');
    await card().locator('button[data-action="promote"]').click();
    expect(await declined).toMatch(/Promote release echo-v2\?/);
    expect(await row().locator('.phase').textContent()).toBe('paused');

    const accepted = nextDialog('accept');
    await card().locator('button[data-action="abort"]').click();
    expect(await accepted).toMatch(/Abort release echo-v2\?/);
    await expect.poll(() => card().getAttribute('data-phase'), { timeout: 15_000 }).toBe('aborted');
    expect(await card().locator('button.act').count()).toBe(0);
  });

  it('shows what the API says as text, never as markup', async () => {
    // The rollback ran the mitigation's check, whose output holds HTML.
    const mitigation = page.locator('#log li[data-type="mitigation"]', { hasText: 'data checks pass' });
    await mitigation.waitFor({ timeout: 15_000 });
    expect(await mitigation.textContent()).toContain(MARKUP);
    expect(await page.locator('#log img, #log b, #main img').count()).toBe(0);
    expect(await page.evaluate<unknown>('typeof window.__pwned')).toBe('undefined');
    expect(pageErrors).toEqual([]);
    expect(violations).toEqual([]);
  });

  it('says so clearly when the server goes away', async () => {
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    await expect
      .poll(() => page.locator('#connection').textContent(), { timeout: 10_000 })
      .toMatch(/^disconnected.*retrying in \d+ s/);
    expect(await page.locator('#connection').getAttribute('class')).toContain('conn-down');
  });
});

// ── the page's event-stream reader, in Node: it uses only what Node has too (fetch, streams) ────

interface SseMessage {
  readonly event: string;
  readonly data: string;
  readonly id: string | null;
}
interface StreamStatus {
  readonly state: 'connecting' | 'open' | 'disconnected' | 'failed';
  readonly retryInMs?: number;
  readonly reason?: string;
}
interface SseParserLike {
  readonly lastId: string | null;
  readonly retry: number | null;
  push(text: string): SseMessage[];
  reset(): void;
}
/** What dashboard/sse.js exports, as its JSDoc says. */
interface DashboardSse {
  readonly MIN_RETRY_MS: number;
  readonly MAX_MESSAGE_CHARS: number;
  readonly SseParser: new (maxChars?: number) => SseParserLike;
  readonly SseOverflowError: new (max: number) => Error;
  retryDelay(o: {
    retry: number | null;
    failures: number;
    minMs?: number;
    maxMs?: number;
    random?: () => number;
  }): number;
  openEventStream(
    url: string,
    options: {
      headers: () => Record<string, string>;
      onMessage: (message: SseMessage) => void;
      onStatus: (status: StreamStatus) => void;
      minDelayMs?: number;
      maxDelayMs?: number;
      idleMs?: number;
      maxMessageChars?: number;
    },
  ): { close(): void };
}

describe('the dashboard’s event-stream reader (dashboard/sse.js, the file the page loads)', () => {
  let sse: DashboardSse;
  beforeAll(async () => {
    sse = (await import(pathToFileURL(join(DASHBOARD_DIR, 'sse.js')).href)) as DashboardSse;
  });

  /** A local HTTP server answering with `handle`; every request is counted in `requests`. */
  const serve = async (
    handle: (req: IncomingMessage, res: ServerResponse, n: number) => void,
  ): Promise<{ url: string; requests: IncomingMessage[]; stop: () => Promise<void> }> => {
    const requests: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      requests.push(req);
      handle(req, res, requests.length);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
      requests,
      stop: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  };
  const streamHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-store' };

  it('takes a message’s id as the one to resume after only once the message is whole', () => {
    const parser = new sse.SseParser();
    expect(parser.push('id: 1\ndata: a\n\nid: 2\ndata: b')).toEqual([
      { event: 'message', data: 'a', id: '1' },
    ]);
    expect(parser.lastId).toBe('1');
    expect(parser.push('\n\n')).toEqual([{ event: 'message', data: 'b', id: '2' }]);
    expect(parser.lastId).toBe('2');
  });

  it('forgets an unfinished message at reset, keeping the id to resume after and the retry', () => {
    const parser = new sse.SseParser();
    parser.push('retry: 3000\nid: 4\ndata: whole\n\nid: 5\nevent: half\ndata: cut off\ndata: mid-li');
    parser.reset();
    expect(parser.push('data: fresh\n\n')).toEqual([{ event: 'message', data: 'fresh', id: '4' }]);
    expect(parser.lastId).toBe('4');
    expect(parser.retry).toBe(3000);
  });

  it('refuses a message that grows past its cap, one endless line or many data lines', () => {
    const endless = new sse.SseParser(1000);
    expect(() => {
      for (let i = 0; i < 20; i++) endless.push('data: '.padEnd(100, 'x'));
    }).toThrow(sse.SseOverflowError);
    const many = new sse.SseParser(1000);
    expect(() => {
      for (let i = 0; i < 20; i++) many.push(`data: ${'x'.repeat(90)}\n`);
    }).toThrow(sse.SseOverflowError);
    const whole = new sse.SseParser(1000);
    for (let i = 0; i < 100; i++) expect(whole.push(`data: ${'x'.repeat(90)}\n\n`)).toHaveLength(1);
    expect(sse.MAX_MESSAGE_CHARS).toBeGreaterThan(0);
  });

  it('never retries sooner than its floor, doubles from the server’s retry, and stops at its ceiling', () => {
    const low = (): number => 0;
    const mid = (): number => 0.5;
    expect(sse.MIN_RETRY_MS).toBeGreaterThanOrEqual(1000);
    expect(sse.retryDelay({ retry: 0, failures: 1, random: low })).toBe(sse.MIN_RETRY_MS);
    expect(sse.retryDelay({ retry: null, failures: 1, random: low })).toBe(sse.MIN_RETRY_MS);
    expect([1, 2, 3, 4].map((failures) => sse.retryDelay({ retry: 2000, failures, random: mid }))).toEqual([
      2000, 4000, 8000, 16_000,
    ]);
    expect(sse.retryDelay({ retry: 2000, failures: 40, random: () => 0.9999 })).toBe(30_000);
    expect(sse.retryDelay({ retry: 0, failures: 1, minMs: 0, random: low })).toBe(0);
  });

  it('waits between reconnections to a server that closes at once, resuming after the last whole message', async () => {
    const server = await serve((_req, res, n) => {
      res.writeHead(200, streamHeaders);
      // No delay asked; a whole message, then half of one, then the connection ends.
      res.end(n === 1 ? 'retry: 0\n\nid: 1\ndata: a\n\nid: 2\ndata: cut' : `id: ${n + 1}\ndata: n${n}\n\n`);
    });
    const messages: SseMessage[] = [];
    const statuses: StreamStatus[] = [];
    const stream = sse.openEventStream(server.url, {
      headers: () => ({ authorization: 'Bearer t' }),
      onMessage: (m) => messages.push(m),
      onStatus: (s) => statuses.push(s),
    });
    try {
      // Waits of ≥ 1 s, then ≥ 1.6 s: two or three connections in 2.5 s, not hundreds.
      await sleep(2500);
      expect(server.requests.length).toBeGreaterThanOrEqual(2);
      expect(server.requests.length).toBeLessThanOrEqual(3);
      expect(server.requests[0]?.headers['last-event-id']).toBeUndefined();
      expect(server.requests[1]?.headers['last-event-id']).toBe('1');
      expect(server.requests[1]?.headers['authorization']).toBe('Bearer t');
      // The half message never reached the page, nor glued itself to the next connection's.
      expect(messages.slice(0, 2)).toEqual([
        { event: 'message', data: 'a', id: '1' },
        { event: 'message', data: 'n2', id: '3' },
      ]);
      const waits = statuses.flatMap((s) => (s.state === 'disconnected' ? [s.retryInMs ?? 0] : []));
      expect(waits[0]).toBeGreaterThanOrEqual(1000);
      expect(waits[1]).toBeGreaterThanOrEqual(1600);
    } finally {
      stream.close();
      await server.stop();
    }
  });

  it('drops a connection whose line never ends, and connects again', async () => {
    let written = 0;
    const server = await serve((_req, res, n) => {
      res.writeHead(200, streamHeaders);
      if (n > 1) return void res.write(': quiet\n\n');
      res.write('data: ');
      const chunk = 'x'.repeat(64 * 1024);
      const more = (): void => {
        // Until the reader hangs up, or far past any cap.
        while (!res.destroyed && written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
      };
      more();
    });
    const statuses: StreamStatus[] = [];
    const stream = sse.openEventStream(server.url, {
      headers: () => ({}),
      onMessage: () => undefined,
      onStatus: (s) => statuses.push(s),
    });
    try {
      await expect.poll(() => server.requests.length, { timeout: 10_000 }).toBe(2);
      const dropped = statuses.find((s) => s.state === 'disconnected');
      expect(dropped?.reason).toMatch(/longer than \d+ characters/);
      expect(written).toBeLessThan(32 * 1024 * 1024);
      await expect.poll(() => statuses.at(-1)?.state).toBe('open');
    } finally {
      stream.close();
      await server.stop();
    }
  });
});
