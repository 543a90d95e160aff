import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentConfiguration } from '../config/types.js';
import { HttpError } from './http.js';
import type { IntakePolicy } from './release-intake.js';
import { intakeRelease } from './release-intake.js';
import { echoConfiguration, releaseBody } from './test-app.js';

describe('intakeRelease', () => {
  const dir = mkdtempSync(join(tmpdir(), 'augur-intake-'));
  let config: DeploymentConfiguration;
  let policy: IntakePolicy;
  beforeAll(async () => {
    config = await echoConfiguration(dir);
    policy = { application: config.application, releases: config.releases };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = async (body: string, type?: string): Promise<HttpError> => {
    try {
      await intakeRelease(body, type, policy);
    } catch (error) {
      if (error instanceof HttpError) return error;
      throw error;
    }
    throw new Error('accepted');
  };

  it('resolves a valid release with the defaults filled in', async () => {
    const release = await intakeRelease(JSON.stringify(releaseBody('r1')), 'application/json', policy);
    expect(release).toMatchObject({
      name: 'r1',
      changes: [{ service: 'echo', revision: 'v2' }],
      tiers: [10, 100],
      bake: { minDurationMs: 1000, minRequests: 5 },
      source: 'api',
    });
  });

  it('accepts a declared revision repeated exactly, and a declared mitigation', async () => {
    const body = releaseBody('r2', {
      changes: [
        {
          service: 'echo',
          revision: 'v2',
          command: ['node', 'test/fixtures/services/echo.js'],
          env: { VERSION: 'v2' },
        },
      ],
      mitigations: [{ name: 'verify', check: { command: ['node', '-e', 'process.exit(0)'] } }],
    });
    const release = await intakeRelease(JSON.stringify(body), undefined, policy);
    expect(release.mitigations).toHaveLength(1);
  });

  it('refuses a command line the server’s files do not hold (403)', async () => {
    const cases = [
      { changes: [{ service: 'echo', revision: 'v3', command: ['sh', '-c', 'id'] }] },
      { changes: [{ service: 'echo', revision: 'v2', command: ['node', 'test/fixtures/services/echo.js'] }] },
      { changes: [{ service: 'nowhere', revision: 'v2', command: ['node'] }] },
      { mitigations: [{ name: 'verify', check: { command: ['sh', '-c', 'id'] } }] },
      { mitigations: [{ name: 'other', backup: { sqlite: '/etc/passwd' } }] },
      { mitigations: [{ name: 'probe', check: { http: 'http://169.254.169.254/' } }] },
    ];
    for (const spec of cases) {
      const error = await refusal(JSON.stringify(releaseBody('evil', spec)));
      expect(error.status, JSON.stringify(spec)).toBe(403);
      expect(error.code).toBe('COMMAND_NOT_ALLOWED');
    }
  });

  it('reports validation issues against the request body (400)', async () => {
    const error = await refusal(
      JSON.stringify(releaseBody('bad', { tiers: [50, 10], application: 'shop' }), null, 2),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('CONFIG_INVALID');
    const issues = error.details['issues'] as { code: string; file: string; line: number }[];
    expect(issues.map((i) => i.code)).toEqual(
      expect.arrayContaining(['application_mismatch', 'tiers_not_increasing']),
    );
    expect(issues.every((i) => i.file === 'request body' && i.line > 1)).toBe(true);
  });

  it('takes YAML with a YAML content type; refuses JSON that is not one Release object', async () => {
    const yaml =
      'apiVersion: augur/v1alpha1\nkind: Release\nmetadata: { name: y1 }\nspec:\n  application: echo\n  changes: [{ service: echo, revision: v2 }]\n';
    expect((await intakeRelease(yaml, 'application/yaml', policy)).name).toBe('y1');
    expect((await refusal(yaml, 'application/json')).status).toBe(400);
    expect((await refusal(`${yaml}---\n${yaml}`, 'text/yaml')).message).toMatch(/2 documents/);
    expect((await refusal('[1, 2]')).status).toBe(400);
    expect((await refusal('')).status).toBe(400);
    const app = await refusal(JSON.stringify({ ...releaseBody('a'), kind: 'Application' }));
    expect(app.message).toMatch(/only a Release/);
  });

  it('refuses YAML whose aliases would expand beyond reason (400)', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(', ')}]`,
      );
    }
    const error = await refusal(`${levels.join('\n')}\n`, 'application/yaml');
    expect(error.status).toBe(400);
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/alias/i);
  });

  it('finds no revision under names every object inherits (403, not a crash)', async () => {
    for (const service of ['__proto__', 'constructor']) {
      const spec = { changes: [{ service, revision: 'v2', command: ['node'] }] };
      const error = await refusal(JSON.stringify(releaseBody('evil', spec)));
      expect(error.status, service).toBe(403);
    }
    const revision = { changes: [{ service: 'echo', revision: 'constructor', command: ['node'] }] };
    expect((await refusal(JSON.stringify(releaseBody('evil', revision)))).status).toBe(403);
  });
});
