import { describe, expect, it } from 'vitest';
import { inheritedEnv } from './child-env.js';

describe('inheritedEnv', () => {
  it('keeps the CLI’s server, token and configuration file from child processes', () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/home/op',
      AUGUR_TOKEN: 'augur_secret',
      AUGUR_SERVER: 'https://augur.example',
      AUGUR_CONFIG: '/home/op/augur.yaml',
      AUGUR_URL_CART: 'http://127.0.0.1:8082',
    };
    expect(inheritedEnv(env)).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/op',
      AUGUR_URL_CART: 'http://127.0.0.1:8082',
    });
    // The caller's environment is left as it was.
    expect(env.AUGUR_CONFIG).toBe('/home/op/augur.yaml');
  });
});
