import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplicationConfig, ReleaseConfig, ServiceConfig } from '../config/types.js';
import { changedFiles, copyEnv, fileStates, makeCopies, planDataCopies } from './data-copies.js';
import { calleeClosure, planSandbox, sandboxApplication } from './plan.js';

const base = mkdtempSync(join(tmpdir(), 'augur-data-copies-'));
// Outside the base directory: copied when a revision's env names it, not when only inherited.
const outside = mkdtempSync(join(tmpdir(), 'augur-data-outside-'));
writeFileSync(join(outside, 'ledger.csv'), 'a,b\n');
writeFileSync(join(outside, 'inherited.txt'), 'x');
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

function service(
  name: string,
  revisions: Record<string, Record<string, string>>,
  calls: string[] = [],
): ServiceConfig {
  return {
    name,
    port: 0,
    stable: 'v1',
    revisions: Object.fromEntries(
      Object.entries(revisions).map(([r, env]) => [
        r,
        { name: r, command: ['node', `${name}.js`], env, cwd: base },
      ]),
    ),
    resources: { replicas: 1, concurrency: 4, cpu: 0.5 },
    policies: { timeoutMs: 500, retries: 0 },
    calls: calls.map((c) => ({ service: c, perRequest: 1, mode: 'sequential' as const })),
    limits: {},
    healthPath: '/healthz',
  };
}

const app: ApplicationConfig = {
  name: 'shop',
  entrypoint: 'frontend',
  services: {
    frontend: service('frontend', { v1: {} }, ['cart', 'catalog']),
    catalog: service('catalog', { v1: {} }),
    cart: service(
      'cart',
      { v1: { CONFIG: 'data/config.json', BLOBS: 'data/blobs', VERSION: 'v1' }, v3: {} },
      ['payments'],
    ),
    payments: service('payments', {
      v1: { ORDERS_DB: 'data/orders.db' },
      v2: { VERSION: 'v2', LEDGER: join(outside, 'ledger.csv'), SHELL_PATH: '/dev/null' },
    }),
  },
  router: { kind: 'builtin' },
  metrics: { kind: 'builtin' },
  store: { url: 'sqlite:/nowhere/augur.db' },
  stateDir: join(base, '.augur'),
  source: join(base, 'augur.yaml'),
};

const release: ReleaseConfig = {
  name: 'cart-v3',
  application: 'shop',
  changes: [{ service: 'cart', revision: 'v3' }],
  tiers: [1, 100],
  bake: { minDurationMs: 1000, minRequests: 1 },
  monitoring: { intervalMs: 1000, warningIntervalMs: 1000 },
  risk: { low: 0.1, high: 0.5 },
  alpha: 0.01,
  mitigations: [{ name: 'restore-ledger', backup: { sqlite: 'data/ledger.db' }, restore: 'auto' }],
  source: join(base, 'release.yaml'),
};

const hash = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('planSandbox', () => {
  it('runs the changed services with both revisions beside the stable revisions of their callees', () => {
    const plan = planSandbox(app, release, (s) => (s === 'payments' ? 'v2' : 'v1'), false);
    expect(plan.candidates).toEqual([{ service: 'cart', stable: 'v1', proposed: 'v3' }]);
    expect([...plan.revisions]).toEqual([
      ['cart', ['v1', 'v3']],
      ['payments', ['v2']],
    ]);
    const viaEntry = planSandbox(app, release, () => 'v1', true);
    expect([...viaEntry.revisions.keys()].sort()).toEqual(['cart', 'catalog', 'frontend', 'payments']);
    expect([...calleeClosure(app, ['frontend'])].sort()).toEqual(['cart', 'catalog', 'frontend', 'payments']);
    expect(() =>
      planSandbox(app, { ...release, changes: [{ service: 'cart', revision: 'v9' }] }, () => 'v1', false),
    ).toThrow(/no revision "v9"/);
  });

  it('gives the sandbox application its own state and the data copies', () => {
    const plan = planSandbox(app, release, () => 'v1', false);
    const sandbox = sandboxApplication(app, plan, '/tmp/sbx', (s, spec) => ({
      ...spec.env,
      COPY: `${s}-${spec.name}`,
    }));
    expect(sandbox.stateDir).toBe('/tmp/sbx');
    expect(sandbox.store.url).toBe('sqlite:/tmp/sbx/sandbox.db');
    expect(Object.keys(sandbox.services).sort()).toEqual(['cart', 'payments']);
    expect(sandbox.services.cart?.revisions.v3?.env).toEqual({ COPY: 'cart-v3' });
    expect(sandbox.services.payments?.revisions.v1?.env).toEqual({
      ORDERS_DB: 'data/orders.db',
      COPY: 'payments-v1',
    });
  });
});

describe('data copies', () => {
  mkdirSync(join(base, 'data', 'blobs'), { recursive: true });
  writeFileSync(join(base, 'data', 'config.json'), '{"a":1}');
  writeFileSync(join(base, 'data', 'audit.log'), 'line\n');
  // A WAL database with a row not yet checkpointed into the main file.
  const orders = new Database(join(base, 'data', 'orders.db'));
  orders.pragma('journal_mode = WAL');
  orders.pragma('wal_autocheckpoint = 0');
  orders.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, amount INTEGER)');
  orders.prepare('INSERT INTO orders (amount) VALUES (?)').run(1299);
  // A WAL database nobody has open: no -wal or -shm beside it, and the copy must not add any.
  const ledger = new Database(join(base, 'data', 'ledger.db'));
  ledger.pragma('journal_mode = WAL');
  ledger.exec('CREATE TABLE entries (id INTEGER PRIMARY KEY)');
  ledger.close();
  const dataDir = join(base, 'sandbox', 'data');
  const plan = planDataCopies({
    app,
    release,
    services: ['cart', 'payments'],
    dataFiles: { cart: { SESSIONS_DB: 'data/sessions.db' } },
    baseDir: base,
    inheritedEnv: {
      AUDIT_LOG: join(base, 'data', 'audit.log'),
      npm_package_json: join(base, 'data', 'config.json'),
      AUGUR_STATE_DIR: join(base, 'data', 'config.json'),
      HOME: base,
      SOMEWHERE: join(outside, 'inherited.txt'),
      UNSET: undefined,
    },
    dataDir,
  });
  const copyOf = (suffix: string): string =>
    plan.copies.find((c) => c.source.endsWith(suffix))?.copy ?? 'none';

  it('points every revision of a service at copies of the files any of its revisions names', () => {
    expect(copyEnv(plan, 'payments', 'v1')).toEqual({
      ORDERS_DB: copyOf('orders.db'),
      AUDIT_LOG: copyOf('audit.log'),
      LEDGER: copyOf('ledger.csv'),
    });
    // v2 sets no ORDERS_DB (nor v1 LEDGER): each would fall back to an inherited or default value,
    // so each gets the other's copy too.
    expect(copyEnv(plan, 'payments', 'v2')).toEqual(copyEnv(plan, 'payments', 'v1'));
    expect(plan.copies.some((c) => c.source.endsWith('inherited.txt') || c.source === '/dev/null')).toBe(
      false,
    );
    expect(copyEnv(plan, 'cart', 'v1')).toEqual({
      CONFIG: copyOf('config.json'),
      AUDIT_LOG: copyOf('audit.log'),
      SESSIONS_DB: copyOf('sessions.db'),
    });
    for (const copy of plan.copies) expect(copy.copy.startsWith(dataDir)).toBe(true);
    expect(plan.copies.find((c) => c.source.endsWith('sessions.db'))).toMatchObject({
      existed: false,
      reason: 'given in dataFiles',
    });
  });

  it('says what it cannot protect: directories, and mitigation files no variable names', () => {
    expect(plan.notes).toEqual([
      expect.stringMatching(/cart v1: BLOBS names the directory data\/blobs, which is not copied/),
      expect.stringMatching(
        /ledger\.db \(backed up by mitigation restore-ledger\) is named by no environment variable/,
      ),
    ]);
    expect(plan.watched.map((w) => w.replace(base, '').replace(outside, 'outside:')).sort()).toEqual([
      '/data/audit.log',
      '/data/config.json',
      '/data/ledger.db',
      '/data/orders.db',
      'outside:/ledger.csv',
    ]);
  });

  it('copies SQLite databases consistently, WAL included, without writing the originals', async () => {
    const source = join(base, 'data', 'orders.db');
    const before = { hash: hash(source), mtime: statSync(source).mtimeMs };
    const states = fileStates(plan.watched);
    await makeCopies(plan, dataDir);
    const copy = new Database(copyOf('orders.db'), { readonly: true });
    expect(copy.prepare('SELECT amount FROM orders').all()).toEqual([{ amount: 1299 }]);
    copy.close();
    expect(readFileSync(copyOf('config.json'), 'utf8')).toBe('{"a":1}');
    const copied = new Database(copyOf('ledger.db'), { readonly: true });
    expect(copied.prepare('SELECT COUNT(*) AS n FROM entries').get()).toEqual({ n: 0 });
    copied.close();
    expect(readdirSync(join(base, 'data')).filter((f) => f.startsWith('ledger'))).toEqual(['ledger.db']);
    expect({ hash: hash(source), mtime: statSync(source).mtimeMs }).toEqual(before);
    expect(changedFiles(states)).toEqual([]);
    utimesSync(join(base, 'data', 'config.json'), new Date(), new Date(Date.now() + 5_000));
    expect(changedFiles(states)).toEqual([expect.stringMatching(/production file .*config\.json changed/)]);
    orders.close();
  });
});
