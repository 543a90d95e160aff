import { describe, expect, it } from 'vitest';
import { augur } from './helpers.js';

describe('augur CLI', () => {
  it('validates the shipped shop and its releases', async () => {
    const r = await augur([
      'validate',
      'examples/shop/augur.yaml',
      ...['cart-v2', 'cart-v3', 'cart-bad', 'payments-catalog-v2'].map(
        (n) => `examples/shop/releases/${n}.yaml`,
      ),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid: application shop \(4 services\), releases .*cart-v2/);
  });

  it('reports every error of broken files with file:line:column and exits 2', async () => {
    const r = await augur([
      'validate',
      'test/fixtures/config/invalid/calls.yaml',
      'test/fixtures/config/invalid/tiers.yaml',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'test/fixtures/config/invalid/calls.yaml:13:22  error  spec.services.frontend.calls[0].service  frontend calls "catalogue"',
    );
    expect(r.stderr).toContain(
      'test/fixtures/config/invalid/tiers.yaml:8:14  error  spec.tiers[1]  tier 0.015 is not a multiple of 0.01',
    );
    expect(r.stderr).toMatch(/11 error\(s\)/);
  });

  it('prints the issues as JSON with --json', async () => {
    const r = await augur(['validate', '--json', 'test/fixtures/config/invalid/calls.yaml']);
    expect(r.code).toBe(2);
    const body = JSON.parse(r.stdout) as {
      valid: boolean;
      issues: { line: number; column: number; code: string }[];
    };
    expect(body.valid).toBe(false);
    expect(body.issues).toContainEqual(expect.objectContaining({ line: 20, column: 20, code: 'call_cycle' }));
  });

  it('has help for every command and rejects bad usage with exit 2', async () => {
    const main = await augur(['--help']);
    expect(main.code).toBe(0);
    for (const name of ['validate', 'up', 'traffic', 'metrics', 'load', 'demo']) {
      expect(main.stdout).toContain(name);
      const help = await augur([name, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: augur ${name}`));
    }
    expect((await augur(['frobnicate'])).code).toBe(2);
    expect((await augur(['validate'])).code).toBe(2);
    const badFlag = await augur(['up', '--nope', 'x.yaml']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/Unknown option '--nope'/);
    const badWeight = await augur([
      'traffic',
      'examples/shop/augur.yaml',
      '--service',
      'cart',
      '--revision',
      'v2',
      '--weight',
      '0.005',
    ]);
    expect(badWeight.code).toBe(2);
    expect(badWeight.stderr).toMatch(/steps of 0\.01%/);
  }, 60_000);

  it('refuses to send load anywhere but loopback', async () => {
    const r = await augur(['load', 'http://192.0.2.1:8080/', '--duration', '1s', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/LOAD_TARGET_NOT_LOOPBACK/);
  });
});
