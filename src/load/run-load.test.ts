import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadSnapshot } from './run-load.js';
import { profileOf, runLoad } from './run-load.js';

/** Answers like a service behind the router: the revision header says who served the key. */
class Upstream {
  readonly keys = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  server: Server = createServer((req, res) => {
    const key = String(req.headers['x-augur-key']);
    this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const answer = (status: number): void => {
      this.inFlight--;
      // Users whose number ends in 0 are on the canary: a 10% share.
      const revision = key.endsWith('0') ? 'v2' : 'v1';
      res.writeHead(status, { 'content-type': 'text/plain', 'x-augur-revision': revision });
      res.end('ok');
    };
    if (req.url === '/fail') answer(503);
    else if (req.url === '/slow') setTimeout(() => answer(200), 300);
    else if (req.url === '/hang') res.on('close', () => this.inFlight--);
    else answer(200);
  });

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

const upstream = new Upstream();

beforeAll(() => new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve)));
afterAll(() => {
  upstream.server.closeAllConnections();
  return new Promise<void>((resolve) => upstream.server.close(() => resolve()));
});

describe('runLoad', () => {
  it('sends Poisson arrivals at the rate, with sticky keys, and counts answers by revision', async () => {
    const progress: LoadSnapshot[] = [];
    const started = Date.now();
    const report = await runLoad(
      {
        target: `${upstream.url}/ok`,
        rate: 400,
        durationMs: 1000,
        users: 50,
        progressIntervalMs: 200,
        seed: 5,
      },
      { onProgress: (s) => progress.push(s) },
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(Math.abs(report.sent - 400)).toBeLessThan(4 * Math.sqrt(400));
    expect(report.completed).toBe(report.sent);
    expect(report.dropped).toBe(0);
    expect(report.errors).toBe(0);
    expect(report.statusCounts).toEqual({ '200': report.sent });
    expect(report.stoppedBy).toBe('duration');
    expect(report.achievedRps).toBeGreaterThan(300);
    expect(report.latencyMs.count).toBe(report.completed);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99);
    expect(report.latencyMs.p99).toBeLessThanOrEqual(report.latencyMs.max);

    // Users 0, 10, 20, 30 and 40 of 50 are on v2: about a tenth of the answers.
    const { v1 = 0, v2 = 0 } = report.revisions;
    expect(v1 + v2).toBe(report.completed);
    expect(v2 / report.completed).toBeGreaterThan(0.03);
    expect(v2 / report.completed).toBeLessThan(0.2);
    expect([...upstream.keys.keys()].every((k) => /^user-([0-9]|[1-4][0-9])$/.test(k))).toBe(true);

    expect(progress.length).toBeGreaterThanOrEqual(3);
    const last = progress.at(-1)!;
    expect(last.sent).toBeGreaterThan(0);
    expect(last.targetRate).toBe(400);
    expect(progress.map((s) => s.elapsedMs)).toEqual(
      [...progress.map((s) => s.elapsedMs)].sort((a, b) => a - b),
    );
  });

  it('replays the same schedule from the same seed', async () => {
    const options = { target: upstream.url, rate: 300, durationMs: 300, seed: 42 };
    const a = await runLoad(options);
    const b = await runLoad(options);
    expect(b.sent).toBe(a.sent);
    expect(b.revisions).toEqual(a.revisions);
  });

  it('counts 5xx answers as errors', async () => {
    const report = await runLoad({ target: upstream.url, path: '/fail', rate: 200, durationMs: 300 });
    expect(report.sent).toBeGreaterThan(0);
    expect(report.errors).toBe(report.sent);
    expect(report.networkErrors).toBe(0);
    expect(report.statusCounts).toEqual({ '503': report.sent });
  });

  it('counts connection failures as network errors', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const report = await runLoad({ target: `http://127.0.0.1:${port}/`, rate: 100, durationMs: 300 });
    expect(report.sent).toBeGreaterThan(0);
    expect(report.completed).toBe(0);
    expect(report.networkErrors).toBe(report.sent);
    expect(report.errors).toBe(report.sent);
  });

  it('drops arrivals beyond maxInFlight instead of queueing them', async () => {
    upstream.maxInFlight = 0;
    const report = await runLoad({
      target: `${upstream.url}/slow`,
      rate: 200,
      durationMs: 500,
      maxInFlight: 5,
    });
    expect(upstream.maxInFlight).toBeLessThanOrEqual(5);
    expect(report.dropped).toBeGreaterThan(0);
    expect(report.sent + report.dropped).toBeGreaterThan(50);
    expect(report.completed).toBe(report.sent);
  });

  it('stops at maxRequests', async () => {
    const report = await runLoad({ target: upstream.url, rate: 1000, durationMs: 5000, maxRequests: 20 });
    expect(report.sent).toBe(20);
    expect(report.completed).toBe(20);
    expect(report.stoppedBy).toBe('maxRequests');
  });

  it('stops early on abort and cuts what is in flight', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const report = await runLoad({
      target: `${upstream.url}/hang`,
      rate: 50,
      durationMs: 10_000,
      signal: controller.signal,
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(report.stoppedBy).toBe('signal');
    expect(report.sent).toBeGreaterThan(0);
    expect(report.aborted).toBe(report.sent);
    expect(report.errors).toBe(0);
  });

  it('times out a request that gets no answer', async () => {
    const report = await runLoad({
      target: `${upstream.url}/hang`,
      rate: 50,
      durationMs: 200,
      timeoutMs: 100,
    });
    expect(report.sent).toBeGreaterThan(0);
    expect(report.networkErrors).toBe(report.sent);
  });

  it('refuses a target that is not this machine, before sending anything', async () => {
    const seen = upstream.keys.size;
    for (const target of ['http://example.com/', 'http://10.1.2.3:8080/', 'http://127.0.0.1.nip.io/']) {
      await expect(runLoad({ target, rate: 10, durationMs: 100 })).rejects.toMatchObject({
        code: 'LOAD_TARGET_NOT_LOOPBACK',
      });
    }
    expect(upstream.keys.size).toBe(seen);
  });

  it('refuses unbounded or malformed options', async () => {
    await expect(runLoad({ target: upstream.url, rate: 10, durationMs: Infinity })).rejects.toMatchObject({
      code: 'LOAD_INVALID_OPTIONS',
    });
    await expect(runLoad({ target: upstream.url, rate: -1, durationMs: 100 })).rejects.toMatchObject({
      code: 'LOAD_INVALID_OPTIONS',
    });
    await expect(
      runLoad({ target: upstream.url, rate: 10, durationMs: 100, maxInFlight: 0 }),
    ).rejects.toMatchObject({
      code: 'LOAD_INVALID_OPTIONS',
    });
  });

  it('ends the run with the error of a progress hook that throws', async () => {
    const run = runLoad(
      { target: upstream.url, rate: 50, durationMs: 5000, progressIntervalMs: 50 },
      {
        onProgress: () => {
          throw new Error('observer broke');
        },
      },
    );
    await expect(run).rejects.toThrow('observer broke');
  });
});

describe('profileOf', () => {
  it('fills the documented defaults', () => {
    expect(profileOf({ target: '', rate: 10, durationMs: 10_000 })).toEqual({ kind: 'constant', rate: 10 });
    expect(profileOf({ target: '', profile: 'diurnal', rate: 10, durationMs: 10_000 })).toEqual({
      kind: 'diurnal',
      rate: 10,
      periodMs: 60_000,
      troughFraction: 0.3,
    });
    expect(profileOf({ target: '', profile: 'spike', rate: 10, durationMs: 10_000 })).toEqual({
      kind: 'spike',
      rate: 10,
      spikeFactor: 2,
      spikeAtMs: 4000,
      spikeMs: 2000,
    });
  });
});
