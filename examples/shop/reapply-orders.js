// Re-applies the sound orders a restore discarded.
// Usage: node examples/shop/reapply-orders.js KEPT_COPY [ORDERS_DB path]
// KEPT_COPY is the copy of the orders database Augur keeps beside the backup when it restores it
// (`…-replaced-….sqlite`: the data as it stood just before the restore). Every order in it that
// verifies and that the database lacks is inserted again; corrupt ones are left out.
// Exit 0 with the counts; 2 when a database cannot be read or written.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { isSound, openOrders, ordersPath } from './lib/orders.js';

const copyPath = process.argv[2] ? resolve(process.argv[2]) : null;
const target = process.argv[3] ? resolve(process.argv[3]) : ordersPath();
if (copyPath === null || !existsSync(copyPath)) {
  console.error('usage: node examples/shop/reapply-orders.js KEPT_COPY [ORDERS_DB]');
  process.exit(2);
}

try {
  const copy = new Database(copyPath, { readonly: true, fileMustExist: true });
  const db = openOrders(target);
  const present = db.prepare('SELECT 1 FROM orders WHERE order_id = ?').pluck();
  const insert =
    db.prepare(`INSERT INTO orders (order_id, user_key, amount_cents, version, created_at, checksum)
    VALUES (@order_id, @user_key, @amount_cents, @version, @created_at, @checksum)`);
  const counts = { added: 0, corrupt: 0, present: 0 };
  db.transaction(() => {
    for (const order of copy
      .prepare('SELECT order_id, user_key, amount_cents, version, created_at, checksum FROM orders')
      .iterate()) {
      if (present.get(order.order_id) !== undefined) counts.present++;
      else if (!isSound(order)) counts.corrupt++;
      else {
        insert.run(order);
        counts.added++;
      }
    }
  })();
  copy.close();
  db.close();
  console.log(
    `${counts.added} sound orders re-applied to ${target}; ${counts.corrupt} corrupt left out; ${counts.present} already there`,
  );
} catch (error) {
  console.error(`cannot re-apply orders from ${copyPath}: ${error.message}`);
  process.exit(2);
}
