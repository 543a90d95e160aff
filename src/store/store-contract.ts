import { describe, expect, it } from 'vitest';
import type { Store } from './store.js';

/**
 * The conformance suite every Store adapter runs: the same behaviour, whatever the database.
 * `reopen` returns a store over the same data, to check durability.
 */
export function runStoreContract(name: string, open: () => Store, reopen: (() => Store) | null): void {
  describe(`Store contract: ${name}`, () => {
    it('applies every migration', async () => {
      const store = open();
      expect(await store.schemaVersion()).toBeGreaterThanOrEqual(5);
      await store.close();
    });

    it('records, lists and forgets processes', async () => {
      const store = open();
      const base = {
        service: 'cart',
        revision: 'v1',
        port: 9000,
        startTicks: 42,
        owner: 'run-a',
        startedAt: 1,
      };
      await store.recordProcess({ ...base, pid: 100, replica: 0 });
      await store.recordProcess({ ...base, pid: 101, replica: 1, startedAt: 2 });
      expect((await store.listProcesses()).map((p) => p.pid)).toEqual([100, 101]);
      await store.forgetProcess(100);
      expect(await store.listProcesses()).toEqual([{ ...base, pid: 101, replica: 1, startedAt: 2 }]);
      await store.close();
    });

    it('keeps one traffic record per service, the latest', async () => {
      const store = open();
      await store.saveTraffic({ service: 'cart', canaryRevision: 'v2', canaryWeight: 10, updatedAt: 1 });
      await store.saveTraffic({ service: 'cart', canaryRevision: 'v2', canaryWeight: 500, updatedAt: 2 });
      await store.saveTraffic({ service: 'catalog', canaryRevision: null, canaryWeight: 0, updatedAt: 3 });
      await store.saveTraffic({
        service: 'payments',
        stableRevision: 'v3',
        canaryRevision: null,
        canaryWeight: 0,
        updatedAt: 4,
      });
      expect(await store.listTraffic()).toEqual([
        { service: 'cart', stableRevision: null, canaryRevision: 'v2', canaryWeight: 500, updatedAt: 2 },
        { service: 'catalog', stableRevision: null, canaryRevision: null, canaryWeight: 0, updatedAt: 3 },
        { service: 'payments', stableRevision: 'v3', canaryRevision: null, canaryWeight: 0, updatedAt: 4 },
      ]);
      await expect(
        store.saveTraffic({ service: 'x', canaryRevision: 'v2', canaryWeight: 10_001, updatedAt: 4 }),
      ).rejects.toThrow();
      await store.close();
    });

    it('stores metric minutes and filters history', async () => {
      const store = open();
      const row = (service: string, minute: number) => ({
        service,
        revision: 'v1',
        minute,
        requests: 10,
        errors: 1,
        timeouts: 0,
        latencyP50Ms: 1.5,
        latencyP95Ms: 3,
        latencyP99Ms: 4,
        latencyMeanMs: 2,
        cpuCores: 0.25,
        rssBytes: 1e6,
        sketch: new Uint8Array([1, 2, 3]),
      });
      await store.saveMetricMinutes([row('cart', 60_000), row('cart', 120_000), row('catalog', 60_000)]);
      const cart = await store.metricHistory({ service: 'cart', from: 60_000, to: 120_000 });
      expect(cart).toEqual([row('cart', 60_000)]);
      expect(await store.metricHistory({})).toHaveLength(3);
      await store.close();
    });

    it('stores a release with its events atomically and lists them in order', async () => {
      const store = open();
      const event = (sequence: number) => ({
        release: 'r1',
        sequence,
        at: 100 + sequence,
        service: sequence === 0 ? null : 'cart',
        type: 'decision',
        signal: sequence === 0 ? null : 'GREEN',
        message: `event ${sequence}`,
        data: { n: sequence, nested: { ok: true } },
      });
      const record = {
        name: 'r1',
        application: 'shop',
        phase: 'running',
        spec: { tiers: [1, 100] },
        state: { a: 1 },
        createdAt: 1,
        updatedAt: 1,
      };
      await store.saveRelease(record, [event(0), event(1)]);
      await store.saveRelease({ ...record, phase: 'promoted', state: { a: 2 }, updatedAt: 2 }, [event(2)]);
      expect(await store.getRelease('r1')).toEqual({
        ...record,
        phase: 'promoted',
        state: { a: 2 },
        updatedAt: 2,
      });
      expect(await store.getRelease('nope')).toBeNull();
      expect((await store.listReleases()).map((r) => r.name)).toEqual(['r1']);
      expect(await store.releaseEvents('r1')).toEqual([event(0), event(1), event(2)]);
      expect((await store.releaseEvents('r1', 1)).map((e) => e.sequence)).toEqual([2]);
      // A duplicate sequence number fails the whole save: neither the state nor any event changes.
      await expect(
        store.saveRelease({ ...record, state: { a: 3 } }, [{ ...event(3) }, event(2)]),
      ).rejects.toThrow();
      expect((await store.getRelease('r1'))?.state).toEqual({ a: 2 });
      expect(await store.releaseEvents('r1')).toHaveLength(3);
      await store.close();
    });

    it('stores tokens by hash, updates their last use, lists and revokes them', async () => {
      const store = open();
      const viewer = {
        id: 't1',
        name: 'ci',
        role: 'viewer' as const,
        hash: 'a'.repeat(64),
        createdAt: 10,
        lastUsedAt: null,
      };
      const admin = {
        ...viewer,
        id: 't2',
        name: 'ops',
        role: 'admin' as const,
        hash: 'b'.repeat(64),
        createdAt: 20,
      };
      await store.saveToken(viewer);
      await store.saveToken(admin);
      expect(await store.findTokenByHash('b'.repeat(64))).toEqual(admin);
      expect(await store.findTokenByHash('c'.repeat(64))).toBeNull();
      await store.touchToken('t1', 30);
      expect(await store.listTokens()).toEqual([{ ...viewer, lastUsedAt: 30 }, admin]);
      // Ids and hashes are unique; an unknown role is refused.
      await expect(store.saveToken({ ...admin, hash: 'e'.repeat(64) })).rejects.toThrow();
      await expect(store.saveToken({ ...admin, id: 't3' })).rejects.toThrow();
      await expect(
        store.saveToken({ ...viewer, id: 't4', hash: 'd'.repeat(64), role: 'root' as 'admin' }),
      ).rejects.toThrow();
      expect(await store.revokeToken('t1')).toBe(true);
      expect(await store.revokeToken('t1')).toBe(false);
      expect(await store.findTokenByHash('a'.repeat(64))).toBeNull();
      // Touching a revoked token must not bring it back.
      await store.touchToken('t1', 40);
      expect(await store.findTokenByHash('a'.repeat(64))).toBeNull();
      expect((await store.listTokens()).map((t) => t.id)).toEqual(['t2']);
      await store.close();
    });

    it('keeps the newest request samples per service, bodies and headers intact', async () => {
      const store = open();
      const sample = (n: number, body: Uint8Array | null = null) => ({
        method: n % 2 === 0 ? 'GET' : 'POST',
        path: `/cart/checkout?n=${n}`,
        headers: { 'content-type': 'application/json', accept: '*/*' },
        body,
        recordedAt: 1_000 + n,
      });
      expect(await store.requestSamples('cart', 10)).toEqual([]);
      const body = new Uint8Array([123, 125, 0, 255]);
      await store.saveRequestSamples('cart', [sample(1, body), sample(2), sample(3)], 4);
      await store.saveRequestSamples('catalog', [sample(9)], 4);
      // Saved later but recorded earlier: the oldest, so it is the first to go.
      await store.saveRequestSamples('cart', [sample(4), sample(5), sample(0)], 4);
      expect((await store.requestSamples('cart', 10)).map((s) => s.recordedAt)).toEqual([
        1_002, 1_003, 1_004, 1_005,
      ]);
      expect((await store.requestSamples('cart', 2)).map((s) => s.recordedAt)).toEqual([1_004, 1_005]);
      expect(await store.requestSamples('catalog', 10)).toEqual([sample(9)]);
      await store.saveRequestSamples('cart', [sample(6, body)]);
      expect((await store.requestSamples('cart', 1))[0]).toEqual(sample(6, body));
      expect(await store.requestSamples('nobody', 10)).toEqual([]);
      await store.close();
    });

    it('keeps model rows (paged back in time), versions, calibration states and predictions', async () => {
      const store = open();
      try {
        const row = (at: number) => ({
          service: 'cart',
          revision: 'v1',
          at,
          windowMs: 10_000,
          requests: 100,
          features: [1, 2.5, -3],
          simulated: { latencyP99Ms: 30, cpuCores: null },
          observed: { latencyP99Ms: 33.5, cpuCores: 0.1 },
          modelId: at > 2 ? 's-1' : null,
          ranges: at > 2 ? { latencyP99Ms: { low: 20, high: 40, source: 'learned' } } : null,
        });
        await store.saveModelRows([1, 2, 3, 4, 5].map(row));
        expect(await store.countModelRows()).toBe(5);
        expect(await store.countModelRows(3)).toBe(3);
        expect((await store.modelRows()).map((r) => r.at)).toEqual([1, 2, 3, 4, 5]);
        expect((await store.modelRows({ limit: 2 })).map((r) => r.at)).toEqual([4, 5]);
        expect((await store.modelRows({ limit: 2, offset: 2 })).map((r) => r.at)).toEqual([2, 3]);
        expect((await store.modelRows({ from: 2, to: 4 })).map((r) => r.at)).toEqual([2, 3]);
        expect((await store.modelRows({ from: 5 }))[0]).toEqual(row(5));
        expect(await store.latestModelVersion()).toBeNull();
        await store.saveModelVersion({
          id: 's-1',
          createdAt: 10,
          summary: { rows: 5 },
          body: { trees: [1, 2] },
        });
        await store.saveModelVersion({
          id: 's-2',
          createdAt: 20,
          summary: { rows: 6 },
          body: { trees: [3] },
        });
        await store.saveModelVersion({ id: 's-2', createdAt: 30, summary: { rows: 0 }, body: {} });
        expect(await store.latestModelVersion()).toEqual({
          id: 's-2',
          createdAt: 20,
          summary: { rows: 6 },
          body: { trees: [3] },
        });
        expect((await store.listModelVersions()).map((v) => [v.id, v.body])).toEqual([
          ['s-2', null],
          ['s-1', null],
        ]);
        expect((await store.listModelVersions(true))[1]?.body).toEqual({ trees: [1, 2] });
        await store.saveCalibrationState('cart/latencyP99Ms', 's-1', { alphaT: 0.1 }, 11);
        await store.saveCalibrationState('cart/latencyP99Ms', 's-2', { alphaT: 0.09 }, 21);
        expect(await store.calibrationStates()).toEqual([
          { metric: 'cart/latencyP99Ms', modelId: 's-2', state: { alphaT: 0.09 }, updatedAt: 21 },
        ]);
        await store.savePrediction({
          release: 'r',
          predictedAt: 5,
          risk: 0.2,
          breachTier: null,
          modelId: null,
        });
        await store.savePrediction({
          release: 'r',
          predictedAt: 5,
          risk: 0.3,
          breachTier: 50,
          modelId: 's-2',
        });
        expect(await store.listPredictions()).toEqual([
          { release: 'r', predictedAt: 5, risk: 0.3, breachTier: 50, modelId: 's-2' },
        ]);
      } finally {
        await store.close();
      }
    });

    if (reopen !== null) {
      it('keeps data across a reopen', async () => {
        const first = open();
        await first.saveTraffic({ service: 'cart', canaryRevision: 'v2', canaryWeight: 100, updatedAt: 9 });
        await first.close();
        const second = reopen();
        expect(await second.listTraffic()).toContainEqual({
          service: 'cart',
          stableRevision: null,
          canaryRevision: 'v2',
          canaryWeight: 100,
          updatedAt: 9,
        });
        await second.close();
      });
    }
  });
}
