import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssues, formatPath, type ConfigIssue } from './issues.js';

describe('formatPath', () => {
  it('writes keys with dots and indices in brackets', () => {
    expect(formatPath(['spec', 'services', 'cart', 'calls', 0, 'service'])).toBe(
      'spec.services.cart.calls[0].service',
    );
    expect(formatPath(['spec', 'services', 'my svc'])).toBe('spec.services["my svc"]');
    expect(formatPath([])).toBe('<root>');
  });
});

describe('formatIssues', () => {
  it('prints one line per issue, relative to the working directory, sorted by file and position', () => {
    const cwd = path.resolve('/project');
    const issue = (file: string, line: number, column: number): ConfigIssue => ({
      file: path.join(cwd, file),
      line,
      column,
      path: ['spec', 'alpha'],
      code: 'out_of_range',
      message: `at ${line}:${column}`,
    });
    const text = formatIssues([issue('b.yaml', 1, 1), issue('a.yaml', 9, 2), issue('a.yaml', 9, 1)], cwd);
    expect(text.split('\n')).toEqual([
      'a.yaml:9:1  error  spec.alpha  at 9:1 (out_of_range)',
      'a.yaml:9:2  error  spec.alpha  at 9:2 (out_of_range)',
      'b.yaml:1:1  error  spec.alpha  at 1:1 (out_of_range)',
    ]);
  });
});
