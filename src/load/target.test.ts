import { describe, expect, it } from 'vitest';
import { loopbackTarget } from './target.js';

describe('loopback targets', () => {
  it('reads the host the way the URL parser does', () => {
    expect(loopbackTarget('http://127.1:8080/x').hostname).toBe('127.0.0.1');
    expect(loopbackTarget('http://[::1]:8080/').hostname).toBe('[::1]');
    expect(() => loopbackTarget('http://2130706433/')).not.toThrow(); // 127.0.0.1 as one number
    expect(() => loopbackTarget('http://user@example.com/')).toThrow(
      expect.objectContaining({ code: 'LOAD_TARGET_NOT_LOOPBACK' }) as Error,
    );
  });

  it('refuses what is not an http URL', () => {
    expect(() => loopbackTarget('127.0.0.1:8080')).toThrow(
      expect.objectContaining({ code: 'LOAD_TARGET_INVALID' }) as Error,
    );
    expect(() => loopbackTarget('https://127.0.0.1/')).toThrow(
      expect.objectContaining({ code: 'LOAD_TARGET_INVALID' }) as Error,
    );
  });
});
