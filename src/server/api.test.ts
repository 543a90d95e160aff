import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseParser } from '../cli/sse-client.js';
import type { SseEvent } from '../cli/sse-client.js';
import type { AugurServer } from './augur-server.js';
import { startAugurServer } from './augur-server.js';
import type { ReleaseView } from './release-view.js';
import { echoConfiguration, releaseBody } from './test-app.js';
import { createToken } from './tokens.js';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

describe('the API, in process, over a real data plane', () => {
  const dir = mkdtempSync(join(tmpdir(), 'augur-api-'));
  let server: AugurServer;
  const tokens: Record<'viewer' | 'operator' | 'admin', string> = { viewer: '', operator: '', admin: '' };

  const call = async (
    method: string,
    path: string,
    options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.raw !== undefined ? { body: options.raw } : {}),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    const body =
      response.headers.get('content-type')?.startsWith('application/json') === true
        ? (JSON.parse(text) as Record<string, unknown>)
        : { text };
    return { status: response.status, body, headers: response.headers };
  };

  /** Reads an SSE stream until `enough` says so, or 10 s pass. */
  const stream = async (
    path: string,
    token: string,
    enough: (events: SseEvent[]) => boolean,
    headers: Record<string, string> = {},
  ): Promise<SseEvent[]> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    const events: SseEvent[] = [];
    try {
      const response = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${token}`, ...headers },
        signal: controller.signal,
      });
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      while (!enough(events)) {
        const { done, value } = await reader.read();
        if (done) break;
        events.push(...parser.push(decoder.decode(value, { stream: true })));
      }
      await reader.cancel();
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    } finally {
      clearTimeout(timer);
    }
    return events;
  };

  /** Waits (at most 10 s) until a release's phase or a track's phase is what the test needs. */
  const until = async (name: string, ok: (view: ReleaseView) => boolean): Promise<ReleaseView> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const view = (await call('GET', `/api/v1/releases/${name}`, { token: tokens.viewer }))
        .body as unknown as ReleaseView;
      if (ok(view)) return view;
      if (Date.now() > deadline) throw new Error(`release ${name} never got there: ${JSON.stringify(view)}`);
      await sleep(50);
    }
  };

  beforeAll(async () => {
    const config = await echoConfiguration(dir);
    server = await startAugurServer({
      app: config.application,
      releases: config.releases,
      runReleases: true,
      portOverride: () => 0,
    });
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      tokens[role] = (await createToken(server.plane.store, role, `test-${role}`, Date.now())).token;
    }
  });

  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const mutations: [string, string, unknown][] = [
    ['POST', '/api/v1/releases', releaseBody('nope')],
    ...['pause', 'resume', 'promote', 'abort', 'rollback'].map((action): [string, string, unknown] => [
      'POST',
      '/api/v1/releases/first/actions',
      { action },
    ]),
    ['PUT', '/api/v1/services/echo/traffic', { revision: 'v2', weight: 1 }],
  ];

  it('refuses every request without a token, or with an unknown one (401)', async () => {
    for (const [method, path, body] of [...mutations, ['GET', '/api/v1/releases', undefined] as const]) {
      const none = await call(method, path, body === undefined ? {} : { body });
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await call(method, path, {
        token: 'augur_not-a-token',
        ...(body === undefined ? {} : { body }),
      });
      expect(wrong.status, `${method} ${path}`).toBe(401);
    }
    expect((await call('GET', '/metrics')).status).toBe(401);
  });

  it('lets a viewer read but never mutate (403)', async () => {
    expect((await call('GET', '/api/v1/releases', { token: tokens.viewer })).status).toBe(200);
    expect((await call('GET', '/api/v1/applications', { token: tokens.viewer })).status).toBe(200);
    expect((await call('GET', '/api/v1/status', { token: tokens.viewer })).status).toBe(200);
    for (const [method, path, body] of mutations) {
      const answer = await call(method, path, { token: tokens.viewer, body });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body['code']).toBe('FORBIDDEN');
    }
    // Nothing was submitted by any of those.
    const list = await call('GET', '/api/v1/releases', { token: tokens.viewer });
    expect(list.body['releases']).toEqual([]);
  });

  it('summarises the application', async () => {
    const answer = await call('GET', '/api/v1/applications', { token: tokens.viewer });
    const [app] = answer.body['applications'] as {
      name: string;
      services: { name: string; stable: string }[];
    }[];
    expect(app?.name).toBe('echo');
    expect(app?.services.map((s) => [s.name, s.stable])).toEqual([
      ['echo', 'v1'],
      ['other', 'v1'],
    ]);
  });

  it('submits a release for an operator, and refuses a duplicate and an overlapping one (409)', async () => {
    const created = await call('POST', '/api/v1/releases', {
      token: tokens.operator,
      body: releaseBody('first'),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/releases/first');
    expect(created.body).toMatchObject({ name: 'first', phase: 'running' });
    const again = await call('POST', '/api/v1/releases', {
      token: tokens.operator,
      body: releaseBody('first'),
    });
    expect(again.status).toBe(409);
    expect(again.body['code']).toBe('RELEASE_EXISTS');
    const overlap = await call('POST', '/api/v1/releases', {
      token: tokens.operator,
      body: releaseBody('second'),
    });
    expect(overlap.status).toBe(409);
    expect(overlap.body).toMatchObject({ code: 'SERVICE_BUSY' });
    expect(overlap.body['error']).toMatch(/release first is rolling out v2 there/);
    // Nor may an admin set the service's split by hand meanwhile: the release owns it.
    const byHand = await call('PUT', '/api/v1/services/echo/traffic', {
      token: tokens.admin,
      body: { revision: 'v2', weight: 50 },
    });
    expect(byHand.status).toBe(409);
    expect(byHand.body).toMatchObject({ code: 'SERVICE_BUSY' });
    const list = await call('GET', '/api/v1/releases', { token: tokens.viewer });
    expect((list.body['releases'] as ReleaseView[]).map((r) => r.name)).toEqual(['first']);
    const one = await call('GET', '/api/v1/releases/first', { token: tokens.viewer });
    expect(one.body).toMatchObject({ name: 'first', phase: 'running', spec: { name: 'first' } });
    expect((await call('GET', '/api/v1/releases/missing', { token: tokens.viewer })).status).toBe(404);
  });

  it('never accepts a command line that is not in the server’s files (403)', async () => {
    const foreign = releaseBody('evil', {
      changes: [{ service: 'echo', revision: 'v9', command: ['sh', '-c', 'touch /tmp/pwned'] }],
    });
    const refused = await call('POST', '/api/v1/releases', { token: tokens.admin, body: foreign });
    expect(refused.status).toBe(403);
    expect(refused.body['code']).toBe('COMMAND_NOT_ALLOWED');
    // The declared revision with another environment is another command line too.
    const altered = releaseBody('evil', {
      changes: [
        {
          service: 'other',
          revision: 'v2',
          command: ['node', 'test/fixtures/services/echo.js'],
          env: { X: '1' },
        },
      ],
    });
    expect((await call('POST', '/api/v1/releases', { token: tokens.admin, body: altered })).status).toBe(403);
    const mitigation = releaseBody('evil', {
      changes: [{ service: 'other', revision: 'v2' }],
      mitigations: [{ name: 'verify', check: { command: ['sh', '-c', 'id'] } }],
    });
    expect((await call('POST', '/api/v1/releases', { token: tokens.admin, body: mitigation })).status).toBe(
      403,
    );
    expect((await call('GET', '/api/v1/releases/evil', { token: tokens.viewer })).status).toBe(404);
  });

  it('answers 400 with the validation issues, 413 for a large body', async () => {
    const bad = await call('POST', '/api/v1/releases', {
      token: tokens.operator,
      body: releaseBody('bad', { tiers: [1, 0.015, 100], alpha: 'x' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body['code']).toBe('CONFIG_INVALID');
    const issues = bad.body['issues'] as { path: (string | number)[]; file: string }[];
    expect(issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['spec.tiers.1', 'spec.alpha']),
    );
    expect(issues.every((i) => i.file === 'request body')).toBe(true);
    expect((await call('POST', '/api/v1/releases', { token: tokens.operator, raw: '{nope' })).status).toBe(
      400,
    );
    const app = { apiVersion: 'augur/v1alpha1', kind: 'Application', metadata: { name: 'echo' }, spec: {} };
    const notRelease = await call('POST', '/api/v1/releases', { token: tokens.operator, body: app });
    expect(notRelease.status).toBe(400);
    const huge = await call('POST', '/api/v1/releases', {
      token: tokens.operator,
      raw: JSON.stringify({ padding: 'x'.repeat(70 * 1024) }),
    });
    expect(huge.status).toBe(413);
    const badAction = await call('POST', '/api/v1/releases/first/actions', {
      token: tokens.operator,
      body: { action: 'explode' },
    });
    expect(badAction.status).toBe(400);
  });

  it('accepts a release as YAML, using a declared revision and mitigation', async () => {
    const yaml = `apiVersion: augur/v1alpha1
kind: Release
metadata: { name: other-v2 }
spec:
  application: echo
  changes: [{ service: other, revision: v2, command: [node, test/fixtures/services/echo.js], env: { VERSION: v2 } }]
  mitigations:
    - { name: verify, check: { command: [node, -e, "process.exit(0)"] } }
`;
    const created = await call('POST', '/api/v1/releases', {
      token: tokens.operator,
      raw: yaml,
      headers: { 'content-type': 'application/yaml' },
    });
    expect(created.status).toBe(201);
    const aborted = await call('POST', '/api/v1/releases/other-v2/actions', {
      token: tokens.operator,
      body: { action: 'abort' },
    });
    expect(aborted.status).toBe(200);
    await until('other-v2', (v) => v.phase === 'aborted');
  });

  it('pauses, resumes and rolls back for an operator; a no-op action is a conflict (409)', async () => {
    await until('first', (v) => v.services[0]?.weight === 10);
    const paused = await call('POST', '/api/v1/releases/first/actions', {
      token: tokens.operator,
      body: { action: 'pause' },
    });
    expect(paused.status).toBe(200);
    expect((paused.body as unknown as ReleaseView).services[0]?.phase).toBe('paused');
    const twice = await call('POST', '/api/v1/releases/first/actions', {
      token: tokens.operator,
      body: { action: 'pause' },
    });
    expect(twice.status).toBe(409);
    const wrongService = await call('POST', '/api/v1/releases/first/actions', {
      token: tokens.operator,
      body: { action: 'resume', service: 'other' },
    });
    expect(wrongService.status).toBe(400);
    expect(
      (
        await call('POST', '/api/v1/releases/first/actions', {
          token: tokens.operator,
          body: { action: 'resume' },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call('POST', '/api/v1/releases/first/actions', {
          token: tokens.operator,
          body: { action: 'rollback', service: 'echo' },
        })
      ).status,
    ).toBe(200);
    const ended = await until('first', (v) => v.phase !== 'running');
    expect(ended.phase).toBe('rolled-back');
    const late = await call('POST', '/api/v1/releases/first/actions', {
      token: tokens.operator,
      body: { action: 'promote' },
    });
    expect(late.status).toBe(409);
    const missing = await call('POST', '/api/v1/releases/missing/actions', {
      token: tokens.operator,
      body: { action: 'pause' },
    });
    expect(missing.status).toBe(404);
  });

  it('lists events after a sequence, and records who acted', async () => {
    const all = await call('GET', '/api/v1/releases/first/events', { token: tokens.viewer });
    const events = all.body['events'] as { sequence: number; type: string; message: string }[];
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type === 'operator').map((e) => e.message)).toEqual([
      'test-operator: pause',
      'test-operator: resume',
      'test-operator: rollback echo',
    ]);
    const later = await call('GET', '/api/v1/releases/first/events?after=3', { token: tokens.viewer });
    expect((later.body['events'] as { sequence: number }[])[0]?.sequence).toBe(4);
    expect(
      (await call('GET', '/api/v1/releases/first/events?after=x', { token: tokens.viewer })).status,
    ).toBe(400);
  });

  it("streams a release's events as SSE, resuming after Last-Event-ID", async () => {
    const { body } = await call('GET', '/api/v1/releases/first/events', { token: tokens.viewer });
    const stored = body['events'] as { sequence: number; type: string }[];
    const last = stored.at(-1)?.sequence ?? -1;
    const events = await stream('/api/v1/releases/first/events/stream', tokens.viewer, (e) =>
      e.some((x) => x.id === String(last)),
    );
    expect(events.map((e) => e.id)).toEqual(stored.map((e) => String(e.sequence)));
    expect(events.map((e) => e.event)).toEqual(stored.map((e) => e.type));
    expect(JSON.parse(events[0]?.data ?? '{}')).toMatchObject({ release: 'first', sequence: 0 });
    const resumed = await stream(
      '/api/v1/releases/first/events/stream',
      tokens.viewer,
      (e) => e.some((x) => x.id === String(last)),
      { 'last-event-id': String(last - 2) },
    );
    expect(resumed.map((e) => e.id)).toEqual([String(last - 1), String(last)]);
  });

  it('streams every release’s events live, and resumes or resets', async () => {
    const live = stream('/api/v1/events', tokens.viewer, (e) => e.some((x) => x.event === 'release-ended'));
    await sleep(200);
    expect(
      (await call('POST', '/api/v1/releases', { token: tokens.operator, body: releaseBody('third') })).status,
    ).toBe(201);
    expect(
      (
        await call('POST', '/api/v1/releases/third/actions', {
          token: tokens.operator,
          body: { action: 'abort' },
        })
      ).status,
    ).toBe(200);
    const events = await live;
    expect(events.map((e) => e.event)).toContain('release-started');
    expect(events.at(-1)?.event).toBe('release-ended');
    const ids = events.map((e) => e.id ?? '');
    const middle = ids[1] ?? '';
    const again = await stream('/api/v1/events', tokens.viewer, (e) => e.some((x) => x.id === ids.at(-1)), {
      'last-event-id': middle,
    });
    expect(again.map((e) => e.id)).toEqual(ids.slice(2));
    const reset = await stream('/api/v1/events', tokens.viewer, (e) => e.length > 0, {
      'last-event-id': 'zz-1',
    });
    expect(reset[0]?.event).toBe('reset');
  });

  it('serves Prometheus metrics', async () => {
    const answer = await call('GET', '/metrics', { token: tokens.viewer });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = answer.body['text'] as string;
    expect(text).toMatch(/^# TYPE augur_releases gauge$/m);
    expect(text).toMatch(/^augur_releases\{phase="rolled-back"\} 1$/m);
    expect(text).toMatch(/^augur_release_events_total\{type="operator"\} \d+$/m);
    expect(text).toMatch(/^augur_traffic_weight_ratio\{service="echo",revision="v1"\} 1$/m);
    // Every sample line is name{labels} value.
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[\d.e+]+$/);
    }
  });

  it('sets traffic only for an admin (the local token is one)', async () => {
    const body = { revision: 'v2', weight: 0.5 };
    expect(
      (await call('PUT', '/api/v1/services/other/traffic', { token: tokens.operator, body })).status,
    ).toBe(403);
    const set = await call('PUT', '/api/v1/services/other/traffic', { token: server.localToken, body });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ service: 'other', canary: 'v2', canaryWeight: 50 });
    const revisionsOfOther = async (): Promise<string[]> => {
      const status = await call('GET', '/api/v1/status', { token: tokens.viewer });
      const services = status.body['services'] as { name: string; instances: { revision: string }[] }[];
      return [...new Set(services.find((s) => s.name === 'other')?.instances.map((i) => i.revision))].sort();
    };
    expect(await revisionsOfOther()).toEqual(['v1', 'v2']);
    const reset = await call('PUT', '/api/v1/services/other/traffic', {
      token: tokens.admin,
      body: { revision: 'v1', weight: 0 },
    });
    expect(reset.status).toBe(200);
    // The canary that no longer gets traffic is stopped, not left running at weight 0.
    expect(await revisionsOfOther()).toEqual(['v1']);
    expect((await call('DELETE', '/api/v1/releases', { token: tokens.admin })).status).toBe(405);
    expect((await call('GET', '/api/v1/nothing', { token: tokens.admin })).status).toBe(404);
  });
});
