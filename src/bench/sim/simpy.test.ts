import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shop } from './models.js';
import { withModelFile } from './simpy.js';

describe('withModelFile', () => {
  it('writes the model in a fresh private directory of the temp dir, removed afterwards', () => {
    const model = shop(10);
    const paths: string[] = [];
    const read = withModelFile(model, (path) => {
      paths.push(path);
      expect(dirname(dirname(path))).toBe(tmpdir());
      // Not a name anyone could guess from the process id, as it was.
      expect(basename(dirname(path))).toMatch(/^augur-bench-sim-\w{6}$/);
      expect(statSync(dirname(path)).mode & 0o077).toBe(0);
      expect(statSync(path).mode & 0o077).toBe(0);
      return JSON.parse(readFileSync(path, 'utf8')) as unknown;
    });
    expect(read).toEqual(JSON.parse(JSON.stringify(model)));
    withModelFile(model, (path) => paths.push(path));
    expect(paths[0]).not.toBe(paths[1]);
    for (const path of paths) expect(existsSync(dirname(path))).toBe(false);
  });

  it('removes the directory when the run fails too', () => {
    let kept = '';
    expect(() =>
      withModelFile(shop(10), (path) => {
        kept = dirname(path);
        throw new Error('python failed');
      }),
    ).toThrow('python failed');
    expect(kept).not.toBe('');
    expect(existsSync(kept)).toBe(false);
  });
});
