import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfiguration } from '../config/index.js';
import { echoApplicationYaml } from '../testing/echo-app.js';
import { DataPlane } from './dataplane.js';
import { repoRoot } from './test-app.js';

describe('DataPlane', () => {
  const dir = mkdtempSync(join(tmpdir(), 'augur-plane-'));
  const stateDir = join(dir, 'state');
  let plane: DataPlane;
  let umask = 0;

  beforeAll(async () => {
    umask = process.umask(0o022);
    const file = join(dir, 'echo.yaml');
    writeFileSync(file, echoApplicationYaml({ stateDir, port: 1 }));
    const loaded = await loadConfiguration([file], { cwd: repoRoot });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
    plane = await DataPlane.start({ app: loaded.value.application, portOverride: () => 0 });
  });

  afterAll(async () => {
    await plane.stop();
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its state directory and store to their owner (0700, 0600)', () => {
    const mode = (path: string): number => statSync(path).mode & 0o777;
    expect(mode(stateDir)).toBe(0o700);
    expect(mode(join(stateDir, 'augur.db'))).toBe(0o600);
  });

  it('knows no service or revision named like an inherited member of every object', async () => {
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty']) {
      await expect(plane.setTraffic(name, 'v1', 100)).rejects.toMatchObject({ code: 'UNKNOWN_SERVICE' });
      await expect(plane.setTraffic('echo', name, 100)).rejects.toMatchObject({ code: 'UNKNOWN_REVISION' });
      await expect(plane.promote('echo', name)).rejects.toMatchObject({ code: 'UNKNOWN_REVISION' });
      expect(() => plane.stableOf(name)).toThrow(/has no service/);
    }
    expect((await plane.splits()).map((s) => [s.service, s.canary])).toEqual([['echo', null]]);
  });
});
