import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SseEvent } from '../cli/sse-client.js';
import { SseParser } from '../cli/sse-client.js';
import type { AugurServer } from './augur-server.js';
import { startAugurServer } from './augur-server.js';
import { echoConfiguration } from './test-app.js';
import { createToken } from './tokens.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/** Limits small enough to pass within a test. */
const LIMITS = {
  headersTimeoutMs: 400,
  requestTimeoutMs: 400,
  timeoutCheckMs: 100,
  maxStreams: 2,
  streamAuthCheckMs: 100,
};

describe('the API’s guards: callers, limits, what errors and answers reveal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'augur-api-guards-'));
  const log: string[] = [];
  let server: AugurServer;
  let port = 0;
  let viewer = '';
  let admin = '';

  /** A request through node:http, which sends the Host and Origin it is given. */
  const call = (
    method: string,
    path: string,
    options: { token?: string; headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent: false,
          headers: {
            ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...options.headers,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body:
                res.headers['content-type']?.startsWith('application/json') === true
                  ? (JSON.parse(text) as Record<string, unknown>)
                  : { text },
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  /** An open event stream: `events` fills as messages come; `ended` settles when the server ends it. */
  const open = async (
    token: string,
  ): Promise<{ events: SseEvent[]; ended: Promise<void>; cancel: () => Promise<void> }> => {
    const response = await fetch(`${server.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const events: SseEvent[] = [];
    const ended = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        events.push(...parser.push(decoder.decode(value, { stream: true })));
      }
    })().catch(() => undefined);
    return { events, ended, cancel: () => reader.cancel() };
  };

  const publish = (message: string): void =>
    server.hub.publish({
      sequence: 0,
      at: Date.now(),
      release: 'r',
      service: null,
      type: 'operator',
      signal: null,
      message,
      data: {},
    });

  /** Waits until the server counts no open event stream (a client's close reaches it a moment later). */
  const noStreams = async (): Promise<void> => {
    const none = async (): Promise<boolean> =>
      /^augur_sse_clients 0$/m.test(String((await call('GET', '/metrics', { token: viewer })).body['text']));
    for (let attempt = 0; attempt < 100 && !(await none()); attempt++) await sleep(20);
  };

  const within = async (ms: number, done: () => boolean): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) return false;
      await sleep(20);
    }
    return true;
  };

  beforeAll(async () => {
    const config = await echoConfiguration(dir);
    server = await startAugurServer({
      app: config.application,
      releases: config.releases,
      // Reads open, as `augur up` serves them: what a web page could read if it got through.
      openReads: true,
      portOverride: () => 0,
      apiLimits: LIMITS,
      apiLog: (line) => log.push(line),
    });
    port = Number(new URL(server.url).port);
    viewer = (await createToken(server.plane.store, 'viewer', 'reader', Date.now())).token;
    admin = (await createToken(server.plane.store, 'admin', 'root', Date.now())).token;
  });

  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers only requests addressed to loopback, and from no other site’s page', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, '192.168.1.20', 'localhost.evil.example']) {
      const answer = await call('GET', '/api/v1/status', { headers: { host } });
      expect(answer.status, host).toBe(421);
      expect(answer.body['code']).toBe('MISDIRECTED_REQUEST');
    }
    for (const host of [`127.0.0.1:${port}`, 'localhost', `127.0.0.2:${port}`, '[::1]:1']) {
      expect((await call('GET', '/api/v1/status', { headers: { host } })).status, host).toBe(200);
    }
    for (const origin of ['http://evil.example', 'null', 'https://127.0.0.1.evil.example']) {
      const answer = await call('GET', '/api/v1/status', { token: viewer, headers: { origin } });
      expect(answer.status, origin).toBe(403);
      expect(answer.body['code']).toBe('ORIGIN_NOT_ALLOWED');
    }
    expect(
      (await call('GET', '/api/v1/status', { headers: { origin: 'http://localhost:3000' } })).status,
    ).toBe(200);
  });

  it('tells browsers never to sniff an answer: JSON, errors, text and event streams alike', async () => {
    const answers = {
      json: await call('GET', '/api/v1/status', { token: viewer }),
      refusal: await call('GET', '/api/v1/status', { headers: { host: 'evil.example' } }),
      missing: await call('GET', '/api/v1/nothing-here', { token: viewer }),
      text: await call('GET', '/metrics', { token: viewer }),
    };
    expect(answers.refusal.status).toBe(421);
    expect(answers.missing.status).toBe(404);
    expect(answers.text.headers['content-type']).toMatch(/^text\/plain/);
    for (const [what, answer] of Object.entries(answers)) {
      expect(answer.headers['x-content-type-options'], what).toBe('nosniff');
      expect(answer.headers['cache-control'], what).toBe('no-store');
    }
    const stream = await fetch(`${server.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    try {
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      await stream.body?.cancel();
      await noStreams();
    }
  });

  it('tells a client only that an internal error happened, and logs it without secrets', async () => {
    const store = server.plane.store;
    const listReleases = store.listReleases.bind(store);
    store.listReleases = () =>
      Promise.reject(new Error('SQLITE_IOERR reading postgres://augur:s3cret@db.internal/augur'));
    try {
      const answer = await call('GET', '/api/v1/releases', { token: viewer });
      expect(answer.status).toBe(500);
      expect(answer.body).toEqual({
        error: 'internal error: the server log has the details',
        code: 'INTERNAL',
      });
    } finally {
      store.listReleases = listReleases;
    }
    const line = log.find((l) => l.includes('SQLITE_IOERR')) ?? '';
    expect(line).toMatch(/^augur api: internal error on GET \/api\/v1\/releases: Error: SQLITE_IOERR/);
    expect(line).toContain('postgres://augur:***@db.internal/augur');
    expect(log.join('\n')).not.toContain('s3cret');
  });

  it('answers a service or revision named like an inherited member with 400, not 500', async () => {
    for (const service of ['__proto__', 'constructor', 'toString']) {
      const answer = await call('PUT', `/api/v1/services/${service}/traffic`, {
        token: admin,
        body: { revision: 'v2', weight: 1 },
      });
      expect(answer.status, service).toBe(400);
      expect(answer.body['code']).toBe('UNKNOWN_SERVICE');
    }
    for (const revision of ['__proto__', 'constructor']) {
      const answer = await call('PUT', '/api/v1/services/echo/traffic', {
        token: admin,
        body: { revision, weight: 1 },
      });
      expect(answer.status, revision).toBe(400);
      expect(answer.body['code']).toBe('UNKNOWN_REVISION');
    }
  });

  it('shows a release’s spec, state and events with the credentials of their addresses masked', async () => {
    await server.plane.store.saveRelease(
      {
        name: 'secretive',
        application: 'echo',
        phase: 'rolled-back',
        spec: {
          name: 'secretive',
          mitigations: [
            {
              name: 'db',
              backup: { postgres: 'postgresql://app:s3cret@db.internal/orders' },
              restore: 'auto',
            },
            {
              name: 'probe',
              check: { http: 'https://probe:s3cret@status.internal/health' },
              restore: 'manual',
            },
          ],
        },
        state: { tracks: [], sequence: 1, mitigation: { note: 'host=db password=s3cret' } },
        createdAt: 1,
        updatedAt: 2,
      },
      [
        {
          release: 'secretive',
          sequence: 0,
          at: 1,
          service: null,
          type: 'mitigation',
          signal: 'RED',
          message: 'pg_restore --dbname=postgresql://app:s3cret@db.internal/orders failed',
          data: {},
        },
      ],
    );
    for (const token of [viewer, admin]) {
      const answer = await call('GET', '/api/v1/releases/secretive', { token });
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.body)).not.toContain('s3cret');
      expect(answer.body['spec']).toMatchObject({
        mitigations: [
          { backup: { postgres: 'postgresql://app:***@db.internal/orders' } },
          { check: { http: 'https://probe:***@status.internal/health' } },
        ],
      });
      const events = await call('GET', '/api/v1/releases/secretive/events', { token });
      expect(JSON.stringify(events.body)).toContain('app:***@db.internal');
      expect(JSON.stringify(events.body)).not.toContain('s3cret');
    }
  });

  it('leaves the split of a release stored as running to it, with no controller here (409)', async () => {
    await server.plane.store.saveRelease(
      {
        name: 'interrupted',
        application: 'echo',
        phase: 'running',
        spec: { name: 'interrupted' },
        state: { tracks: [{ service: 'other', canary: 'v2', phase: 'baking' }] },
        createdAt: 1,
        updatedAt: 2,
      },
      [],
    );
    const answer = await call('PUT', '/api/v1/services/other/traffic', {
      token: admin,
      body: { revision: 'v2', weight: 50 },
    });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'SERVICE_BUSY' });
    expect(answer.body['error']).toMatch(/release interrupted is rolling v2 out in other/);
    expect((await server.plane.router.getSplit('other')).canaryWeight).toBe(0);
    // Its other services are free.
    const echo = await call('PUT', '/api/v1/services/echo/traffic', {
      token: admin,
      body: { revision: 'v1', weight: 0 },
    });
    expect(echo.status).toBe(200);
  });

  it('keeps an event stream open past the request time-out, which a slow request does not survive', async () => {
    const stream = await open(viewer);
    try {
      await sleep(LIMITS.requestTimeoutMs * 3);
      publish('still here');
      expect(await within(2000, () => stream.events.some((e) => e.data.includes('still here')))).toBe(true);
    } finally {
      await stream.cancel();
      await noStreams();
    }
    // A request whose body never comes whole is answered 408 and its connection closed.
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `PUT /api/v1/services/echo/traffic HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${admin}\r\nContent-Length: 100\r\n\r\n{"a":`,
    );
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('refuses event streams beyond the limit (503) until one closes', async () => {
    const first = await open(viewer);
    const second = await open(viewer);
    try {
      const third = await call('GET', '/api/v1/events', { token: viewer });
      expect(third.status).toBe(503);
      expect(third.body['code']).toBe('TOO_MANY_STREAMS');
      await first.cancel();
      // The server learns of the closed stream a moment later; then a new one is let in.
      let reopened = false;
      for (let attempt = 0; attempt < 100 && !reopened; attempt++) {
        const response = await fetch(`${server.url}/api/v1/events`, {
          headers: { authorization: `Bearer ${viewer}` },
        });
        reopened = response.status === 200;
        await (reopened ? response.body?.cancel() : response.text());
        if (!reopened) await sleep(20);
      }
      expect(reopened).toBe(true);
    } finally {
      await second.cancel();
      await noStreams();
    }
  });

  it('ends the event streams of a token once it is revoked', async () => {
    const { token, record } = await createToken(server.plane.store, 'viewer', 'leaving', Date.now());
    const stream = await open(token);
    let ended = false;
    void stream.ended.then(() => (ended = true));
    await sleep(LIMITS.streamAuthCheckMs * 3);
    expect(ended).toBe(false);
    await server.plane.store.revokeToken(record.id);
    expect(await within(2000, () => ended)).toBe(true);
    expect((await call('GET', '/api/v1/events', { token })).status).toBe(401);
  });

  it('closes the connection after refusing a request whose body it did not read', async () => {
    for (const token of [undefined, viewer]) {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      const auth = token === undefined ? '' : `Authorization: Bearer ${token}\r\n`;
      socket.write(
        `POST /api/v1/releases HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"padding":"`,
      );
      // The server closes it well before the request time-out, without the rest of the body.
      const started = Date.now();
      await closed;
      expect(Date.now() - started).toBeLessThan(LIMITS.requestTimeoutMs);
      expect(answer).toMatch(token === undefined ? /^HTTP\/1\.1 401/ : /^HTTP\/1\.1 403/);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    }
  });
});
