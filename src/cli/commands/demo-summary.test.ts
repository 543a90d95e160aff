import { describe, expect, it } from 'vitest';
import type { DemoReleaseSummary, DemoServiceSummary } from './demo-summary.js';
import { formatSummary } from './demo-summary.js';

const service = (
  over: Partial<DemoServiceSummary> & Pick<DemoServiceSummary, 'service' | 'revision'>,
): DemoServiceSummary => ({
  outcome: 'promoted',
  tierReached: 100,
  timeToDecisionMs: 76_900,
  canaryRequests: 1102,
  canaryErrors: 0,
  decidedOn: { requests: 1090, errors: 0 },
  reason: null,
  culprit: false,
  ...over,
});

function release(
  name: string,
  outcome: DemoReleaseSummary['outcome'],
  services: DemoServiceSummary[],
): DemoReleaseSummary {
  const first = services[0] ?? service({ service: '', revision: '' });
  return {
    release: name,
    service: first.service,
    revision: first.revision,
    outcome,
    tierReached: first.tierReached,
    timeToDecisionMs: first.timeToDecisionMs,
    canaryRequests: first.canaryRequests,
    canaryErrors: first.canaryErrors,
    reason: first.reason,
    services,
    mitigation: null,
    prediction: null,
  };
}

const summaries: DemoReleaseSummary[] = [
  release('cart-v2', 'promoted', [service({ service: 'cart', revision: 'v2' })]),
  release('cart-bad', 'rolled-back', [
    service({
      service: 'cart',
      revision: 'v4',
      outcome: 'rolled-back',
      tierReached: 5,
      timeToDecisionMs: 17_200,
      canaryRequests: 49,
      canaryErrors: 5,
      decidedOn: { requests: 42, errors: 4 },
      culprit: true,
    }),
  ]),
  {
    ...release('payments-catalog-v2', 'mixed', [
      service({
        service: 'payments',
        revision: 'v2',
        outcome: 'rolled-back',
        tierReached: 5,
        timeToDecisionMs: 7_100,
        canaryRequests: 13,
        canaryErrors: 4,
        decidedOn: { requests: 13, errors: 4 },
        culprit: true,
      }),
      service({ service: 'catalog', revision: 'v2', timeToDecisionMs: 39_000, canaryRequests: 2210 }),
    ]),
    mitigation: {
      status: 'restored',
      rounds: 1,
      backups: 1,
      checkFailures: ['restore-orders-db: 3 of 8140 orders are corrupt in /s/data/payments/orders.db'],
      discardedRows: 371,
      discarded: [
        {
          name: 'restore-orders-db',
          since: 0,
          rows: 371,
          reverted: 0,
          tables: { orders: 371 },
          kept: ['/s/backups/p/restore-orders-db-1-replaced-abc123.sqlite'],
          note: null,
        },
      ],
    },
  },
];

describe('the demo summary', () => {
  const text = formatSummary(summaries, { sent: 9747, errors: 9, p99Ms: 214.7 }, 202_000);
  const lines = text.split('\n');
  const header = lines.find((l) => l.includes('release') && l.includes('outcome')) ?? '';
  const rows = lines.slice(lines.indexOf(header) + 1, lines.indexOf(header) + 5);

  it('gives each changed service a row of its own, its columns aligned under the header', () => {
    expect(rows).toHaveLength(4);
    for (const column of ['outcome', 'tier', 'failed']) {
      const at = header.indexOf(column);
      // Text columns start under their header, numeric ones end under it.
      for (const row of rows) expect(row.slice(at - 1, at), `${column}: ${row}`).toMatch(/^\s$/);
    }
    expect(rows[2]).toMatch(
      /^ {2}payments-catalog-v2 +payments v2 +rolled-back \(culprit\) +5% +7\.1 +13 +4 +4$/,
    );
    // The release's second change: what happened to it, not the release's first service's tier.
    expect(rows[3]).toMatch(/^ {2} +catalog v2 +promoted +100% +39\.0 +2210 +0 +0$/);
    expect(text).not.toMatch(/reached +\d/);
  });

  it('labels the failures counted until the traffic was withdrawn apart from those the decision had seen', () => {
    expect(header).toMatch(/failed +failed when decided$/);
    expect(rows[1]).toMatch(/ 49 +5 +4$/);
    expect(text).toMatch(
      /failed: until its traffic was withdrawn; failed when decided: in the windows its decisions had analysed/,
    );
  });

  it('says what the data check found and what the restore discarded', () => {
    expect(text).toContain(
      [
        '  payments-catalog-v2, its data:',
        '    check failed: restore-orders-db: 3 of 8140 orders are corrupt in /s/data/payments/orders.db',
        '    restored from the backup taken before the first tier, and verified',
        '    restore-orders-db: 371 rows written or changed since the backup (00:00:00 UTC) discarded (orders 371); ' +
          'the data before the restore kept in /s/backups/p/restore-orders-db-1-replaced-abc123.sqlite',
      ].join('\n'),
    );
    expect(text).toMatch(
      /\n\n {2}load: 9747 page views, 9 errors, p99 214\.7 ms\n {2}the demo took 202 s\n$/,
    );
  });
});
