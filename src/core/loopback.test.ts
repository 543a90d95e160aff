import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './loopback.js';

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'localhost.',
    '127.0.0.1',
    '127.1.2.3',
    '127.255.255.255',
    '[::1]',
    '::1',
  ])('accepts %s', (host) => expect(isLoopbackHost(host)).toBe(true));

  it.each([
    'example.com',
    '10.0.0.1',
    '128.0.0.1',
    '0.0.0.0',
    '[::]',
    '[::2]',
    '127.0.0.1.nip.io',
    'localhost.example.com',
    '',
  ])('refuses %s', (host) => expect(isLoopbackHost(host)).toBe(false));
});
