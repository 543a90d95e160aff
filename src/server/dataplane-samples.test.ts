import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfiguration } from '../config/index.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { echoApplicationYaml } from '../testing/echo-app.js';
import { DataPlane } from './dataplane.js';
import { repoRoot } from './test-app.js';

const dir = mkdtempSync(join(tmpdir(), 'augur-plane-samples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function post(port: number, path: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('DataPlane request samples', () => {
  it('saves what the router recorded to the store, without credentials', async () => {
    const stateDir = join(dir, 'state');
    const file = join(dir, 'echo.yaml');
    writeFileSync(file, echoApplicationYaml({ stateDir, port: 1 }));
    const loaded = await loadConfiguration([file], { cwd: repoRoot });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
    const plane = await DataPlane.start({ app: loaded.value.application, portOverride: () => 0 });
    try {
      const port = plane.router.address('echo').port;
      const status = await post(port, '/orders?api_token=abc&page=2', '{"n":1}', {
        'content-type': 'application/json',
        authorization: 'Bearer secret',
        cookie: 'augur-key=alice',
      });
      expect(status).toBe(200);
    } finally {
      await plane.stop();
    }
    const store = new SqliteStore(join(stateDir, 'augur.db'));
    try {
      const samples = await store.requestSamples('echo', 10);
      expect(samples.map((s) => [s.method, s.path, s.headers])).toEqual([
        ['POST', '/orders?api_token=redacted&page=2', { 'content-type': 'application/json' }],
      ]);
      expect(Buffer.from(samples[0]?.body ?? []).toString()).toBe('{"n":1}');
    } finally {
      await store.close();
    }
  });
});
