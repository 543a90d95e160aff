import { describe, expect, it } from 'vitest';
import { augur } from './helpers.js';

describe('augur CLI', () => {
  const traffic = (weight: string) =>
    augur([
      'traffic',
      'examples/shop/augur.yaml',
      '--service',
      'cart',
      '--revision',
      'v2',
      '--weight',
      weight,
    ]);

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
    expect(r.stderr).toMatch(/\n11 errors\n$/);
    const one = await augur(['validate', 'test/fixtures/config/invalid/release-only.yaml']);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/\(missing_application\)\n1 error\n$/);
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
    expect(badFlag.stderr).toMatch(/unknown option --nope/);
    const badWeight = await traffic('0.005');
    expect(badWeight.code).toBe(2);
    expect(badWeight.stderr).toMatch(/steps of 0\.01%/);
  }, 60_000);

  it('takes a service the application does not have as bad input (exit 2), before looking for a server', async () => {
    const r = await augur([
      'traffic',
      'examples/shop/augur.yaml',
      '--service',
      'crat',
      '--revision',
      'v2',
      '--weight',
      '1',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'augur traffic: application shop has no service "crat" (did you mean "cart"?); its services: frontend, catalog, cart, payments [UNKNOWN_SERVICE]\n',
    );
  });

  it('refuses to send load anywhere but loopback', async () => {
    const r = await augur(['load', 'http://192.0.2.1:8080/', '--duration', '1s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/only sends to this machine/);
    expect(r.stderr).not.toMatch(/^load: /m);
  });

  it('points to the right command or option, and answers `augur help COMMAND`', async () => {
    const none = await augur([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Augur: predictive progressive delivery/);
    const help = await augur(['help', 'validate']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: augur validate/);
    const typo = await augur(['valdate', 'x.yaml']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command "valdate" — did you mean "validate"\?/);
    const option = await augur(['traffic', 'examples/shop/augur.yaml', '--wieght', '1']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option --wieght — did you mean --weight\?/);
    const extra = await augur(['demo', 'now']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/takes no arguments, got "now"/);
  });

  it('checks every number before doing any work', async () => {
    for (const weight of ['', '0x10', 'Infinity', '101']) {
      const r = await traffic(weight);
      expect(r.code, weight).toBe(2);
      expect(r.stderr).toMatch(/--weight must be a number in \[0, 100\]/);
    }
    const negative = await traffic('-1');
    expect(negative.code).toBe(2);
    expect(negative.stderr).toMatch(/--weight=-VALUE/);
    const rate = await augur(['load', 'http://127.0.0.1:9/', '--rate', '0']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toMatch(/--rate must be a number > 0, got "0"/);
    const inFlight = await augur(['load', 'http://127.0.0.1:9/', '--max-in-flight', '1.5']);
    expect(inFlight.code).toBe(2);
    expect(inFlight.stderr).toMatch(/--max-in-flight must be a whole number ≥ 1/);
    // Refused before the shop starts: no process, no listener.
    const apiPort = await augur(['up', 'examples/shop/augur.yaml', '--api-port', 'abc']);
    expect(apiPort.code).toBe(2);
    expect(apiPort.stderr).toMatch(/--api-port must be a whole number in \[0, 65535\]/);
    const host = await augur(['server', 'examples/shop/augur.yaml', '--host', 'nowhere.invalid']);
    expect(host.code).toBe(2);
    expect(host.stderr).toMatch(/does not resolve to an address/);
    const scenarios = await augur([
      'predict',
      'examples/shop/releases/cart-v2.yaml',
      '--scenarios',
      'nominal=0',
    ]);
    expect(scenarios.code).toBe(2);
    expect(scenarios.stderr).toMatch(/weights sum to zero/);
  });

  it('places YAML errors of a release sent to a server at file:line:column', async () => {
    const r = await augur([
      'rollout',
      'test/fixtures/config/invalid/syntax.yaml',
      '--server',
      'http://127.0.0.1:9',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'test/fixtures/config/invalid/syntax.yaml:4:25  error  Map keys must be unique',
    );
  });

  it('refuses a report path it could not write before predicting anything', async () => {
    const r = await augur([
      'predict',
      'examples/shop/releases/cart-v2.yaml',
      '--no-sandbox',
      '--report',
      'no/such/folder/report.html',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--report: the folder .*no\/such\/folder does not exist/);
    expect(r.stderr).not.toMatch(/simulating/);
  });

  it('notes backends this version cannot run, and refuses to run them', async () => {
    const file = 'test/fixtures/config/unavailable/augur.yaml';
    const valid = await augur(['validate', file]);
    expect(valid.code).toBe(0);
    expect(valid.stderr).toMatch(/note: router kind haproxy is not available yet/);
    expect(valid.stderr).toMatch(/note: metrics kind prometheus is not available yet/);
    const json = JSON.parse((await augur(['validate', '--json', file])).stdout) as { unavailable: string[] };
    expect(json.unavailable).toHaveLength(2);
    const up = await augur(['up', file]);
    expect(up.code).toBe(2);
    expect(up.stderr).toMatch(/router kind haproxy is not available yet: only the builtin router runs/);
    expect(up.stderr).not.toMatch(/is up/);
    // Its store does not exist: listing tokens says so rather than making an empty one.
    const tokens = await augur(['token', 'list', file]);
    expect(tokens.code).toBe(1);
    expect(tokens.stderr).toMatch(/no store at .*absent\/augur\.db: run this where the application runs/);
  });
});
