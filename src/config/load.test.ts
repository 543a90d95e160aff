import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPath, type ConfigIssue } from './issues.js';
import { loadConfiguration, type LoadOptions } from './load.js';
import type { ApplicationConfig } from './types.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));
const fixture = (name: string): string => path.join(FIXTURES, name);

/** `FILE:LINE:COL PATH CODE`, the parts of an issue a user relies on to find and fix it. */
const summary = (issues: readonly ConfigIssue[]): string[] =>
  issues.map(
    (i) => `${path.relative(FIXTURES, i.file)}:${i.line}:${i.column} ${formatPath(i.path)} ${i.code}`,
  );

async function issuesOf(files: string[], options?: LoadOptions): Promise<ConfigIssue[]> {
  const result = await loadConfiguration(files.map(fixture), options);
  if (result.ok) throw new Error(`expected issues in ${files.join(', ')}`);
  return result.error;
}

let shop: ApplicationConfig;
beforeAll(async () => {
  const result = await loadConfiguration([fixture('shop.yaml')]);
  if (!result.ok) throw new Error('shop.yaml must be valid');
  shop = result.value.application;
});

describe('a valid application and release', () => {
  it('resolves with every default filled in', async () => {
    const cwd = path.resolve('/srv/shop');
    const result = await loadConfiguration([fixture('shop.yaml')], { cwd });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { application, releases } = result.value;
    expect(application.name).toBe('shop');
    expect(application.source).toBe(fixture('shop.yaml'));
    expect(application.stateDir).toBe(path.join(cwd, '.augur'));
    expect(application.store).toEqual({ url: `sqlite:${path.join(cwd, '.augur', 'augur.db')}` });
    expect(application.router).toEqual({ kind: 'builtin' });
    expect(application.metrics).toEqual({ kind: 'builtin' });
    expect(Object.keys(application.services)).toEqual(['frontend', 'catalog', 'cart', 'payments']);

    const { frontend, catalog, cart, payments } = application.services;
    expect(frontend?.calls).toEqual([
      { service: 'catalog', perRequest: 2, mode: 'parallel' },
      { service: 'cart', perRequest: 1, mode: 'sequential' },
    ]);
    expect(frontend?.resources).toEqual({ replicas: 2, concurrency: 16, cpu: 0.5 });
    expect(frontend?.limits).toEqual({ latencyP99Ms: 400, errorRate: 0.01, cpu: 0.85 });
    expect(catalog?.resources).toEqual({ replicas: 1, concurrency: 16, cpu: 0.5 });
    expect(catalog?.policies).toEqual({ timeoutMs: 1000, retries: 0 });
    expect(catalog?.calls).toEqual([]);
    expect(catalog?.healthPath).toBe('/healthz');
    expect(payments?.healthPath).toBe('/ready');
    expect(payments?.limits).toEqual({ errorRate: 0.005 });

    // The release declares cart v2; it joins the application's revisions.
    expect(cart?.revisions).toEqual({
      v1: { name: 'v1', command: ['node', 'examples/shop/cart.js'], env: { VERSION: 'v1' }, cwd },
      v2: { name: 'v2', command: ['node', 'examples/shop/cart.js'], env: { VERSION: 'v2' }, cwd },
    });

    expect(releases).toEqual([
      {
        name: 'cart-v2',
        application: 'shop',
        changes: [{ service: 'cart', revision: 'v2' }],
        tiers: [0.1, 1, 5, 25, 50, 100],
        bake: { minDurationMs: 30_000, minRequests: 500 },
        monitoring: { intervalMs: 10_000, warningIntervalMs: 1_000 },
        risk: { low: 0.1, high: 0.5 },
        alpha: 0.01,
        tolerance: { latencyIncrease: 0 },
        rollback: { policy: 'service' },
        mitigations: [
          {
            name: 'restore-orders-db',
            backup: { sqlite: 'examples/shop/data/orders.db' },
            check: { command: ['node', 'examples/shop/check-orders.js'] },
            restore: 'auto',
          },
        ],
        source: fixture('shop.yaml'),
      },
    ]);
  });

  it('checks a Release alone against an application loaded earlier, which may already hold its revision', async () => {
    const result = await loadConfiguration([fixture('invalid/release-only.yaml')], { application: shop });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.application.services['cart']?.revisions['v2']?.command).toEqual([
      'node',
      'examples/shop/cart.js',
    ]);
    expect(result.value.releases.map((r) => r.name)).toEqual(['cart-v2']);
  });
});

describe('defaults of a minimal release', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'augur-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fills tiers, bake, monitoring, risk, alpha, mitigations; the warning pace never exceeds the normal one', async () => {
    const file = path.join(dir, 'release.yaml');
    await writeFile(
      file,
      [
        'apiVersion: augur/v1alpha1',
        'kind: Release',
        'metadata: { name: fast }',
        'spec:',
        '  application: shop',
        '  changes: [{ service: cart, revision: v3, command: [node, cart.js] }]',
        '  monitoring: { interval: 500ms }',
        '---',
        '',
      ].join('\n'),
    );
    const result = await loadConfiguration(['release.yaml'], { cwd: dir, application: shop });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [release] = result.value.releases;
    expect(release).toMatchObject({
      tiers: [0.1, 1, 5, 25, 50, 100],
      bake: { minDurationMs: 30_000, minRequests: 500 },
      monitoring: { intervalMs: 500, warningIntervalMs: 500 },
      risk: { low: 0.1, high: 0.5 },
      alpha: 0.01,
      mitigations: [],
      source: file,
    });
    expect(result.value.application.services['cart']?.revisions['v3']).toEqual({
      name: 'v3',
      command: ['node', 'cart.js'],
      env: {},
      cwd: dir,
    });
  });

  it('resolves the other backends and mitigation forms', async () => {
    await writeFile(
      path.join(dir, 'augur.yaml'),
      [
        'apiVersion: augur/v1alpha1',
        'kind: Application',
        'metadata: { name: shop }',
        'spec:',
        '  entrypoint: cart',
        '  stateDir: /var/lib/augur',
        '  services:',
        '    cart: { port: 9000, stable: v1, revisions: { v1: { command: [./cart] } } }',
        '  router: { kind: gateway-api }',
        '  metrics: { kind: prometheus, url: "http://prometheus:9090" }',
        '  store: { url: "postgres://augur@db/augur" }',
        '---',
        'apiVersion: augur/v1alpha1',
        'kind: Release',
        'metadata: { name: cart-v2 }',
        'spec:',
        '  application: shop',
        '  changes: [{ service: cart, revision: v2, command: [./cart, --fast] }]',
        '  mitigations:',
        '    - { name: pg, backup: { postgres: "postgres://db/orders" }, check: { http: "http://cart/check" } }',
        '    - { name: script, backup: { command: [./snapshot] } }',
      ].join('\n'),
    );
    const result = await loadConfiguration(['augur.yaml'], { cwd: dir });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { application, releases } = result.value;
    expect(application.router).toEqual({ kind: 'gateway-api' });
    expect(application.metrics).toEqual({ kind: 'prometheus', url: 'http://prometheus:9090' });
    expect(application.store).toEqual({ url: 'postgres://augur@db/augur' });
    expect(application.stateDir).toBe(path.resolve('/var/lib/augur'));
    expect(releases[0]?.mitigations).toEqual([
      {
        name: 'pg',
        backup: { postgres: 'postgres://db/orders' },
        check: { http: 'http://cart/check' },
        restore: 'manual',
      },
      { name: 'script', backup: { command: ['./snapshot'] }, restore: 'manual' },
    ]);
  });

  it('reports a file that cannot be read, and goes on with the others', async () => {
    const issues = await issuesOf(['does-not-exist.yaml', 'invalid/ports.yaml']);
    expect(issues[0]).toMatchObject({ line: 1, column: 1, path: [], code: 'file_unreadable' });
    expect(issues.map((i) => i.code)).toContain('duplicate_port');
  });
});

// Each broken fixture: every expected issue, with its exact position, path and code, from one load.
const cases: [string, string[], string[]][] = [
  [
    'misspelt keys, with suggestions',
    ['invalid/unknown-keys.yaml'],
    [
      'invalid/unknown-keys.yaml:4:25 metadata.label unknown_key',
      'invalid/unknown-keys.yaml:9:7 spec.services.frontend.stable missing_key',
      'invalid/unknown-keys.yaml:10:7 spec.services.frontend.stabel unknown_key',
      'invalid/unknown-keys.yaml:12:45 spec.services.frontend.revisions.v1.enviroment unknown_key',
      'invalid/unknown-keys.yaml:13:20 spec.services.frontend.resources.replica unknown_key',
      'invalid/unknown-keys.yaml:14:7 spec.services.frontend.limts unknown_key',
      'invalid/unknown-keys.yaml:15:19 spec.router.kind invalid_value',
    ],
  ],
  [
    'calls to unknown services, call cycles, an unknown entrypoint',
    ['invalid/calls.yaml'],
    [
      'invalid/calls.yaml:6:15 spec.entrypoint unknown_service',
      'invalid/calls.yaml:13:22 spec.services.frontend.calls[0].service unknown_service',
      'invalid/calls.yaml:20:20 spec.services.catalog.calls[0].service call_cycle',
      'invalid/calls.yaml:32:22 spec.services.payments.calls[0].service call_cycle',
    ],
  ],
  [
    'stable revisions and release changes',
    ['invalid/revisions.yaml'],
    [
      'invalid/revisions.yaml:10:15 spec.services.cart.stable unknown_revision',
      'invalid/revisions.yaml:15:7 spec.services.payments.stable missing_key',
      'invalid/revisions.yaml:23:16 spec.application application_mismatch',
      'invalid/revisions.yaml:25:18 spec.changes[0].service unknown_service',
      'invalid/revisions.yaml:26:34 spec.changes[1].revision unknown_revision',
      'invalid/revisions.yaml:27:18 spec.changes[2].service duplicate_change',
      'invalid/revisions.yaml:36:34 spec.changes[0].revision revision_exists',
      'invalid/revisions.yaml:37:38 spec.changes[1].revision unknown_revision',
      'invalid/revisions.yaml:37:47 spec.changes[1].env env_without_command',
    ],
  ],
  [
    'ports',
    ['invalid/ports.yaml'],
    [
      'invalid/ports.yaml:9:16 spec.services.b.port duplicate_port',
      'invalid/ports.yaml:10:16 spec.services.c.port out_of_range',
      'invalid/ports.yaml:11:16 spec.services.d.port out_of_range',
      'invalid/ports.yaml:12:16 spec.services.e.port invalid_type',
      'invalid/ports.yaml:13:16 spec.services.f.port not_integer',
    ],
  ],
  [
    'numeric ranges and enumerations',
    ['invalid/numbers.yaml'],
    [
      'invalid/numbers.yaml:12:30 spec.services.cart.resources.replicas out_of_range',
      'invalid/numbers.yaml:12:46 spec.services.cart.resources.concurrency not_integer',
      'invalid/numbers.yaml:12:56 spec.services.cart.resources.cpu out_of_range',
      'invalid/numbers.yaml:13:30 spec.services.cart.policies.timeoutMs out_of_range',
      'invalid/numbers.yaml:13:42 spec.services.cart.policies.retries out_of_range',
      'invalid/numbers.yaml:14:48 spec.services.cart.calls[0].perRequest out_of_range',
      'invalid/numbers.yaml:14:57 spec.services.cart.calls[0].mode invalid_value',
      'invalid/numbers.yaml:15:28 spec.services.cart.limits.errorRate out_of_range',
      'invalid/numbers.yaml:15:36 spec.services.cart.limits.cpu out_of_range',
      'invalid/numbers.yaml:15:55 spec.services.cart.limits.latencyP99Ms out_of_range',
      'invalid/numbers.yaml:27:16 spec.risk.low risk_order',
      'invalid/numbers.yaml:28:10 spec.alpha out_of_range',
      'invalid/numbers.yaml:29:24 spec.bake.minRequests not_integer',
      'invalid/numbers.yaml:37:17 spec.risk.high out_of_range',
      'invalid/numbers.yaml:38:10 spec.alpha out_of_range',
      'invalid/numbers.yaml:39:33 spec.tolerance.latencyIncrease out_of_range',
    ],
  ],
  [
    'YAML syntax errors, then the documents that do parse',
    ['invalid/syntax.yaml'],
    [
      'invalid/syntax.yaml:4:25 metadata.name duplicate_key',
      'invalid/syntax.yaml:7:1 <root> yaml_syntax',
      'invalid/syntax.yaml:14:10 spec.alpha invalid_type',
    ],
  ],
  [
    'keys given twice, at their own paths, and the other errors of the same documents',
    ['invalid/duplicates.yaml'],
    [
      'invalid/duplicates.yaml:12:7 spec.services.frontend.port duplicate_key',
      'invalid/duplicates.yaml:13:26 spec.services.frontend.calls[0].service unknown_service',
      'invalid/duplicates.yaml:14:3 spec.entrypoint duplicate_key',
      'invalid/duplicates.yaml:18:23 metadata.name duplicate_key',
      'invalid/duplicates.yaml:21:71 spec.changes[0].revision duplicate_key',
      'invalid/duplicates.yaml:22:10 spec.alpha invalid_type',
    ],
  ],
  [
    'kinds, apiVersion, names, a second Application',
    ['invalid/kinds.yaml'],
    [
      'invalid/kinds.yaml:3:7 kind unknown_kind',
      'invalid/kinds.yaml:6:1 <root> not_a_mapping',
      'invalid/kinds.yaml:9:13 apiVersion invalid_value',
      'invalid/kinds.yaml:18:7 kind multiple_applications',
      'invalid/kinds.yaml:19:19 metadata.name invalid_name',
      'invalid/kinds.yaml:25:1 kind missing_key',
    ],
  ],
  [
    'a Release without its Application',
    ['invalid/release-only.yaml'],
    ['invalid/release-only.yaml:3:7 kind missing_application'],
  ],
  [
    'router, metrics, store, environment, mitigations',
    ['invalid/backends.yaml'],
    [
      'invalid/backends.yaml:11:68 spec.services.cart.revisions.v1.env.RELEASE invalid_type',
      'invalid/backends.yaml:12:19 spec.services.cart.healthPath invalid_value',
      'invalid/backends.yaml:13:12 spec.metrics.url missing_key',
      'invalid/backends.yaml:14:17 spec.store.url invalid_value',
      'invalid/backends.yaml:24:46 spec.mitigations[0].backup.postgres exactly_one',
      'invalid/backends.yaml:25:14 spec.mitigations[0].check exactly_one',
      'invalid/backends.yaml:26:16 spec.mitigations[0].restore invalid_value',
      'invalid/backends.yaml:27:13 spec.mitigations[1].name duplicate_mitigation',
      'invalid/backends.yaml:28:22 spec.mitigations[1].check.http invalid_value',
    ],
  ],
  [
    'releases that clash with each other across files',
    ['shop.yaml', 'invalid/conflicts.yaml'],
    [
      'invalid/conflicts.yaml:4:19 metadata.name duplicate_release',
      'invalid/conflicts.yaml:12:19 metadata.name duplicate_release',
      'invalid/conflicts.yaml:16:34 spec.changes[0].revision revision_conflict',
    ],
  ],
];

describe('broken configurations', () => {
  it.each(cases)('%s', async (_title, files, expected) => {
    expect(summary(await issuesOf(files))).toEqual(expected);
  });

  const tiers = [
    'invalid/tiers.yaml:8:11 spec.tiers[0] tier_out_of_range',
    'invalid/tiers.yaml:8:14 spec.tiers[1] tier_precision',
    'invalid/tiers.yaml:8:29 spec.tiers[4] tiers_not_increasing',
    'invalid/tiers.yaml:8:32 spec.tiers[5] tier_out_of_range',
    'invalid/tiers.yaml:8:32 spec.tiers[5] tiers_not_ending_at_100',
    'invalid/tiers.yaml:16:10 spec.tiers tiers_empty',
    'invalid/tiers.yaml:27:7 spec.tiers[2] tiers_not_ending_at_100',
  ];
  const durations = [
    'invalid/durations.yaml:8:24 spec.bake.minDuration invalid_duration',
    'invalid/durations.yaml:11:22 spec.monitoring.warningInterval interval_order',
    'invalid/durations.yaml:19:24 spec.bake.minDuration invalid_duration',
    'invalid/durations.yaml:20:27 spec.monitoring.interval invalid_duration',
    'invalid/durations.yaml:20:48 spec.monitoring.warningInterval invalid_duration',
  ];

  it('tiers (0.1 passes, 0.015 does not)', async () => {
    expect(summary(await issuesOf(['invalid/tiers.yaml'], { application: shop }))).toEqual(tiers);
  });

  it('durations', async () => {
    expect(summary(await issuesOf(['invalid/durations.yaml'], { application: shop }))).toEqual(durations);
  });

  it('reports the issues of every file in one pass', async () => {
    const issues = await issuesOf(['invalid/calls.yaml', 'invalid/tiers.yaml', 'invalid/durations.yaml']);
    expect(summary(issues)).toEqual([
      'invalid/calls.yaml:6:15 spec.entrypoint unknown_service',
      'invalid/calls.yaml:13:22 spec.services.frontend.calls[0].service unknown_service',
      'invalid/calls.yaml:20:20 spec.services.catalog.calls[0].service call_cycle',
      'invalid/calls.yaml:32:22 spec.services.payments.calls[0].service call_cycle',
      ...durations,
      ...tiers,
    ]);
  });

  it('gives each issue a message, a structured path and the absolute file', async () => {
    const [issue] = await issuesOf(['invalid/unknown-keys.yaml']);
    expect(issue).toEqual({
      file: fixture('invalid/unknown-keys.yaml'),
      line: 4,
      column: 25,
      path: ['metadata', 'label'],
      code: 'unknown_key',
      message: 'unknown key "label"',
    });
    const messages = (await issuesOf(['invalid/unknown-keys.yaml'])).map((i) => i.message);
    expect(messages).toContain('unknown key "replica" (did you mean "replicas"?)');
    const twice = (await issuesOf(['invalid/duplicates.yaml'])).find((i) => i.code === 'duplicate_key');
    expect(twice?.message).toBe(
      '"port" is given twice in the same mapping (first at line 9, column 7); the last one is checked',
    );
    const cycle = (await issuesOf(['invalid/calls.yaml'])).find((i) => i.path.includes('payments'));
    expect(cycle?.message).toMatch(/^call cycle: cart → payments → cart/);
  });

  it('says an Application is needed when given no files', async () => {
    const result = await loadConfiguration([]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.map((i) => i.code)).toEqual(['missing_application']);
  });
});
