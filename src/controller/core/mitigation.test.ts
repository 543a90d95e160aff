import { describe, expect, it } from 'vitest';
import type { ApplicationConfig, ReleaseConfig } from '../../config/types.js';
import type { Analysis } from './observation.js';
import { createRelease } from './release.js';
import { describeDiscarded, mitigationDone } from './mitigation.js';
import type { DiscardedChanges, ReleaseState } from './types.js';

const app = {
  name: 'shop',
  services: { payments: { stable: 'v1', calls: [] } },
} as unknown as ApplicationConfig;
const release: ReleaseConfig = {
  name: 'r1',
  application: 'shop',
  changes: [{ service: 'payments', revision: 'v2' }],
  tiers: [5, 100],
  bake: { minDurationMs: 5_000, minRequests: 20 },
  monitoring: { intervalMs: 1_000, warningIntervalMs: 1_000 },
  risk: { low: 0.1, high: 0.5 },
  alpha: 0.01,
  mitigations: [
    { name: 'orders', backup: { sqlite: 'orders.db' }, check: { command: ['check'] }, restore: 'auto' },
  ],
  source: 'r1.yaml',
};
const idle: Analysis = {
  initial: () => ({}),
  update: () => ({ state: {}, breaches: [], deviations: [], withinLimits: false }),
};
const takenAt = Date.UTC(2026, 10, 28, 10, 34, 2);
const discarded: DiscardedChanges = {
  since: takenAt,
  rows: 371,
  reverted: 0,
  tables: { orders: 371 },
  kept: ['/state/backups/r1/orders-1-replaced-abc123.sqlite'],
  note: null,
};

/** A release whose data check failed: the restore is pending. */
function restoring(): ReleaseState {
  const state = createRelease(release, app, idle, 0, undefined, {}, [
    { name: 'orders', path: '/state/backups/r1/orders-1.sqlite', takenAt },
  ]).state;
  if (state.mitigation === undefined) throw new Error('no mitigation');
  state.mitigation.pending = 'restore';
  state.mitigation.round = 1;
  state.mitigation.trigger = 'payments';
  return state;
}

describe('what a restore discarded, in the events and the stored state', () => {
  it('records the rows written since the backup that the restore discarded, and says so when verified', () => {
    const restored = mitigationDone(
      restoring(),
      { ok: true, results: [{ name: 'orders', ok: true, detail: 'restored; …', discarded }] },
      20_000,
    );
    expect(restored.state.mitigation?.discarded).toEqual([
      { name: 'orders', at: 20_000, changes: discarded },
    ]);
    const verified = mitigationDone(
      restored.state,
      { ok: true, results: [{ name: 'orders', ok: true, detail: '7769 orders verified' }] },
      21_000,
    );
    expect(verified.state.mitigation).toMatchObject({ status: 'restored', discarded: [{ name: 'orders' }] });
    const event = verified.events.find((e) => e.type === 'mitigation');
    expect(event?.message).toBe(
      'data restored and verified (orders: 7769 orders verified); orders: 371 rows written or changed since ' +
        'the backup discarded (the data before the restore is in /state/backups/r1/orders-1-replaced-abc123.sqlite)',
    );
    expect(event?.data).toMatchObject({ discarded: [{ name: 'orders', changes: { rows: 371 } }] });
  });

  it('keeps the latest restore of each mitigation, whose count covers the earlier ones', () => {
    const first = mitigationDone(
      restoring(),
      { ok: true, results: [{ name: 'orders', ok: true, detail: 'restored', discarded }] },
      20_000,
    ).state;
    if (first.mitigation === undefined) throw new Error('no mitigation');
    first.mitigation.pending = 'restore';
    const again = { ...discarded, rows: 400, kept: [...discarded.kept, '/state/b2.sqlite'] };
    const second = mitigationDone(
      first,
      { ok: false, results: [{ name: 'orders', ok: true, detail: 'restored', discarded: again }] },
      30_000,
    );
    expect(second.state.mitigation?.discarded).toEqual([{ name: 'orders', at: 30_000, changes: again }]);
  });

  it('words what a restore discarded: counted per table, or said to be uncounted', () => {
    expect(describeDiscarded({ ...discarded, reverted: 1 })).toBe(
      '371 rows written or changed since the backup (10:34:02 UTC) discarded (orders 371); 1 row deleted or ' +
        'changed since put back; the data before the restore kept in /state/backups/r1/orders-1-replaced-abc123.sqlite',
    );
    expect(
      describeDiscarded({
        since: takenAt,
        rows: null,
        reverted: null,
        tables: {},
        kept: [],
        note: 'PostgreSQL restores are not counted',
      }),
    ).toBe(
      'what was written since the backup (10:34:02 UTC) is discarded, not counted (PostgreSQL restores are not counted)',
    );
  });
});
