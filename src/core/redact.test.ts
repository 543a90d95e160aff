import { describe, expect, it } from 'vitest';
import { redactDeep, redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/orders', 'postgres://app:***@db:5432/orders'],
    ['postgresql://app:p@ss@db/orders?sslmode=require', 'postgresql://app:***@db/orders?sslmode=require'],
    [
      'HTTP 503 from https://probe:s3cret@status.example/health',
      'HTTP 503 from https://probe:***@status.example/health',
    ],
    // A user name alone may be a token (https://TOKEN@host): it is masked whole.
    ['clone https://ghp_s3cret@github.com/x/y', 'clone https://***@github.com/x/y'],
    ['host=db user=app password=s3cret dbname=orders', 'host=db user=app password=*** dbname=orders'],
    ["host=db password='s3 cret' dbname=orders", 'host=db password=*** dbname=orders'],
    ['postgres://db/orders?user=app&password=s3cret&x=1', 'postgres://db/orders?user=app&password=***&x=1'],
    ['mysql --password=s3cret -e "select 1"', 'mysql --password=*** -e "select 1"'],
    ['PGPASSWORD=s3cret pg_dump', 'PGPASSWORD=*** pg_dump'],
  ])('masks %s', (text, masked) => {
    expect(redactSecrets(text)).toBe(masked);
    // Masking twice changes nothing more.
    expect(redactSecrets(masked)).toBe(masked);
  });

  it.each([
    'pg_dump exited 1: connection refused',
    'http://127.0.0.1:7070/api/v1/releases',
    'mail bob@example.com about http://host/path',
    'the password is checked by the service',
  ])('leaves %s alone', (text) => {
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('redactDeep', () => {
  it('masks every string of nested data and keeps its shape', () => {
    const spec = {
      name: 'r1',
      tiers: [1, 10],
      mitigations: [
        { name: 'db', backup: { postgres: 'postgres://app:s3cret@db/orders' } },
        { name: 'probe', check: { http: 'http://u:s3cret@127.0.0.1/health' } },
      ],
      done: null,
    };
    const masked = redactDeep(spec);
    expect(JSON.stringify(masked)).not.toContain('s3cret');
    expect(masked).toEqual({
      ...spec,
      mitigations: [
        { name: 'db', backup: { postgres: 'postgres://app:***@db/orders' } },
        { name: 'probe', check: { http: 'http://u:***@127.0.0.1/health' } },
      ],
    });
  });
});
