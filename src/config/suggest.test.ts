import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from './suggest.js';

describe('suggestions', () => {
  it('measures edits, counting a swap of neighbours as one', () => {
    expect(editDistance('stable', 'stabel')).toBe(1);
    expect(editDistance('replica', 'replicas')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only plausible typos', () => {
    expect(closest('hapoxy', ['builtin', 'haproxy', 'nginx'])).toBe('haproxy');
    expect(closest('Application', ['Application', 'Release'])).toBe('Application');
    expect(closest('enviroment', ['command', 'env'])).toBe('env');
    expect(closest('zzz', ['port', 'stable'])).toBeUndefined();
    expect(didYouMean('x', ['port'])).toBe('');
    expect(didYouMean('limts', ['limits', 'calls'])).toBe(' (did you mean "limits"?)');
  });
});
