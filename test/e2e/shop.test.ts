import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/runtime/process/ports.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOP = join(ROOT, 'examples', 'shop');
const KNOBS = [
  'VERSION',
  'WORK_MS',
  'SERVICE_TIME_MULTIPLIER',
  'LATENCY_MS',
  'JITTER_MS',
  'ERROR_RATE',
  'CONCURRENCY_LIMIT',
  'MEMORY_GROWTH_KB',
  'CORRUPTION_RATE',
  'SEED',
  'ORDERS_DB',
];

interface Service {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output: string;
}

const running: Service[] = [];
let dir = '';

/** Starts `examples/shop/<file>.js` on a free port and waits for its /healthz. */
async function start(file: string, env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const base: Record<string, string | undefined> = { ...process.env };
  for (const name of KNOBS) delete base[name];
  const child = spawn(process.execPath, [join(SHOP, `${file}.js`)], {
    cwd: ROOT,
    env: { ...base, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const service: Service = { name: file, port, url: `http://127.0.0.1:${port}`, child, exited, output: '' };
  const collect = (chunk: Buffer): void => {
    service.output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  running.push(service);

  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${file} exited ${child.exitCode}: ${service.output}`);
    try {
      const res = await fetch(`${service.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return service;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${file} was not healthy within 10 s: ${service.output}`);
}

async function stop(service: Service): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGTERM');
  const gone = await Promise.race([service.exited.then(() => true), sleep(3000).then(() => false)]);
  if (!gone) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
}

interface Reply {
  readonly status: number;
  readonly version: string | null;
  readonly body: Record<string, unknown>;
  readonly ms: number;
}

async function call(
  url: string,
  init: { method?: string; body?: unknown; key?: string } = {},
): Promise<Reply> {
  const started = performance.now();
  const headers: Record<string, string> = {};
  if (init.key !== undefined) headers['x-augur-key'] = init.key;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as Record<string, unknown>;
  return {
    status: res.status,
    version: res.headers.get('x-shop-version'),
    body,
    ms: performance.now() - started,
  };
}

function checkOrders(path: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [join(SHOP, 'check-orders.js'), path], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

interface OrderRow {
  order_id: string;
  user_key: string | null;
  amount_cents: number;
  version: string;
}

function orders(path: string): OrderRow[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare('SELECT order_id, user_key, amount_cents, version FROM orders ORDER BY id')
      .all() as OrderRow[];
  } finally {
    db.close();
  }
}

describe('the shop, as real processes', () => {
  let frontend: Service;
  let catalog: Service;
  let cart: Service;
  let payments: Service;
  let ordersDb = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'augur-shop-'));
    ordersDb = join(dir, 'orders.db');
    payments = await start('payments', { ORDERS_DB: ordersDb, VERSION: 'p1' });
    catalog = await start('catalog', { VERSION: 'c1' });
    cart = await start('cart', { AUGUR_URL_PAYMENTS: payments.url, VERSION: 'k1' });
    frontend = await start('frontend', {
      AUGUR_URL_CATALOG: catalog.url,
      AUGUR_URL_CART: cart.url,
      VERSION: 'f1',
    });
  });

  afterAll(async () => {
    await Promise.all(running.map(stop));
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('every service answers /healthz', async () => {
    for (const service of [frontend, catalog, cart, payments]) {
      const reply = await call(`${service.url}/healthz`);
      expect(reply.status).toBe(200);
      expect(reply.body.service).toBe(service.name);
    }
  });

  it('serves a page through catalog, cart and payments, and writes the order', async () => {
    const reply = await call(`${frontend.url}/`, { key: 'alice' });
    expect(reply.status).toBe(200);
    expect(reply.version).toBe('f1');
    expect(reply.body).toMatchObject({
      service: 'frontend',
      version: 'f1',
      user: 'alice',
      served: { catalog: ['c1', 'c1'], cart: 'k1', payments: 'p1' },
    });
    const order = reply.body.order as { orderId: string; amountCents: number };
    expect(order.amountCents).toBeGreaterThan(0);

    const rows = orders(ordersDb);
    expect(rows).toContainEqual({
      order_id: order.orderId,
      user_key: 'alice',
      amount_cents: order.amountCents,
      version: 'p1',
    });
    const check = checkOrders(ordersDb);
    expect(check.output).toMatch(/orders verified/);
    expect(check.status).toBe(0);
  });

  it('a dependency that fails makes its caller answer 502', async () => {
    const broken = await start('cart', { AUGUR_URL_PAYMENTS: 'http://127.0.0.1:1', VERSION: 'k-down' });
    const reply = await call(`${broken.url}/cart/checkout`);
    expect(reply.status).toBe(502);
    expect(String(reply.body.error)).toMatch(/payments/);
  });

  it('ERROR_RATE=1 makes cart answer 500 without charging anything', async () => {
    const before = orders(ordersDb).length;
    const failing = await start('cart', {
      AUGUR_URL_PAYMENTS: payments.url,
      ERROR_RATE: '1',
      VERSION: 'k-bad',
    });
    for (let i = 0; i < 3; i++) {
      const reply = await call(`${failing.url}/cart/checkout`, { method: 'POST', body: {} });
      expect(reply.status).toBe(500);
      expect(reply.version).toBe('k-bad');
    }
    expect(orders(ordersDb)).toHaveLength(before);
  });

  it('CORRUPTION_RATE=1 writes corrupt orders that check-orders.js reports', async () => {
    const corruptDb = join(dir, 'corrupt.db');
    const corrupting = await start('payments', { ORDERS_DB: corruptDb, CORRUPTION_RATE: '1' });
    for (let i = 0; i < 2; i++) {
      const reply = await call(`${corrupting.url}/payments`, { method: 'POST', body: { amountCents: 1000 } });
      // The harm is silent: the caller sees a normal answer.
      expect(reply.status).toBe(200);
      expect(reply.body.amountCents).toBe(1000);
    }
    const check = checkOrders(corruptDb);
    expect(check.status).toBe(1);
    expect(check.output).toMatch(/2 of 2 orders are corrupt/);
  });

  it('CONCURRENCY_LIMIT=1 queues the second of two concurrent requests', async () => {
    const limited = await start('catalog', { CONCURRENCY_LIMIT: '1', LATENCY_MS: '100', WORK_MS: '0' });
    const unlimited = await start('catalog', { LATENCY_MS: '100', WORK_MS: '0' });
    const pair = async (service: Service): Promise<number> => {
      await call(`${service.url}/products`); // warm the connection pool
      const started = performance.now();
      const replies = await Promise.all([call(`${service.url}/products`), call(`${service.url}/products`)]);
      expect(replies.map((r) => r.status)).toEqual([200, 200]);
      return performance.now() - started;
    };
    const queued = await pair(limited);
    const parallel = await pair(unlimited);
    expect(parallel).toBeGreaterThanOrEqual(95);
    expect(parallel).toBeLessThan(190);
    expect(queued).toBeGreaterThanOrEqual(195);
    expect(queued).toBeLessThan(400);
  });

  it('on SIGTERM finishes the request in flight, closes the database and exits 0', async () => {
    const db = join(dir, 'graceful.db');
    const slow = await start('payments', { ORDERS_DB: db, LATENCY_MS: '300' });
    const pending = call(`${slow.url}/payments`, { method: 'POST', body: { amountCents: 250 } });
    await sleep(100);
    slow.child.kill('SIGTERM');
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(await slow.exited).toBe(0);
    // Closed cleanly: the write-ahead log was checkpointed and removed.
    expect(existsSync(`${db}-wal`)).toBe(false);
    expect(orders(db)).toHaveLength(1);
    await expect(fetch(`${slow.url}/healthz`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
  });

  it('refuses to start with a malformed knob, naming it', async () => {
    const port = await freePort();
    const result = spawnSync(process.execPath, [join(SHOP, 'catalog.js')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), ERROR_RATE: '2' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ERROR_RATE/);
  });
});

describe('the orders database', () => {
  it('opens in two replicas started at once on a file not yet in WAL mode', async () => {
    const where = mkdtempSync(join(tmpdir(), 'augur-orders-'));
    const open = (file: string): Promise<number | null> =>
      new Promise((done) => {
        const script = `import { openOrders } from ${JSON.stringify(join(SHOP, 'lib', 'orders.js'))}; openOrders(${JSON.stringify(file)}).close();`;
        spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' }).on('exit', done);
      });
    try {
      // Both replicas switch the fresh file to WAL: the loser of that race used to exit at once.
      for (let round = 0; round < 40; round++) {
        const file = join(where, `orders-${round}.db`);
        const db = new Database(file);
        db.exec('CREATE TABLE filler (n INTEGER)');
        db.close();
        expect(await Promise.all([open(file), open(file)]), `round ${round}`).toEqual([0, 0]);
      }
    } finally {
      rmSync(where, { recursive: true, force: true });
    }
  }, 60_000);
});
