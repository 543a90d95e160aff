import { resolve } from 'node:path';
import type Database from 'better-sqlite3';

/** The shop's orders module (examples/shop/lib/orders.js), as the tests use it. */
interface ShopOrders {
  openOrders(path: string): Database.Database;
  checksum(order: object): string;
}

const packageRoot = resolve(import.meta.dirname, '..', '..');

/**
 * The shop's orders database at `path`, opened as payments opens it, and a writer of orders in
 * its format: `write(n, corrupt)` adds n orders, each whose amount disagrees with its checksum when
 * `corrupt` (what `examples/shop/check-orders.js` finds). Mitigation tests share it so that they all
 * damage the data the way the shop's bad revision does.
 */
export async function shopOrders(
  path: string,
): Promise<{ db: Database.Database; write: (n: number, corrupt: boolean) => void }> {
  const orders = (await import(resolve(packageRoot, 'examples/shop/lib/orders.js'))) as ShopOrders;
  const db = orders.openOrders(path);
  const insert = db.prepare(
    'INSERT INTO orders (order_id, user_key, amount_cents, version, created_at, checksum) VALUES (?, ?, ?, ?, ?, ?)',
  );
  let next = 0;
  const write = (n: number, corrupt: boolean): void => {
    for (let i = 0; i < n; i++) {
      const order = {
        order_id: `o-${next++}`,
        user_key: 'u',
        amount_cents: 1_250,
        created_at: 1_700_000_000_000 + next,
      };
      insert.run(
        order.order_id,
        order.user_key,
        corrupt ? -1 : order.amount_cents,
        'v1',
        order.created_at,
        orders.checksum(order),
      );
    }
  };
  return { db, write };
}
