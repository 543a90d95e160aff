// payments: charges a checkout and writes the order row (SQLite, WAL).
import { randomUUID } from 'node:crypto';
import { readKnobs } from './lib/knobs.js';
import { checksum, openOrders, ordersPath } from './lib/orders.js';
import { HttpError, main, startService } from './lib/server.js';

main(() => {
  const knobs = readKnobs('payments', { WORK_MS: 1 });
  const path = ordersPath();
  const db = openOrders(path);
  const insert =
    db.prepare(`INSERT INTO orders (order_id, user_key, amount_cents, version, created_at, checksum)
    VALUES (@order_id, @user_key, @amount_cents, @version, @created_at, @checksum)`);
  console.log(`payments: orders in ${path}`);

  startService({
    knobs,
    routes: {
      'POST /payments': ({ body, key, random }) => {
        const amountCents = body?.amountCents;
        if (!Number.isInteger(amountCents) || amountCents <= 0) {
          throw new HttpError(400, 'amountCents must be a positive whole number');
        }
        const order = {
          order_id: randomUUID(),
          user_key: key ?? null,
          amount_cents: amountCents,
          version: knobs.version,
          created_at: Date.now(),
        };
        order.checksum = checksum(order);
        // The harmful fault is silent: the customer is told the right amount, the row says otherwise.
        const corrupt = knobs.corruptionRate > 0 && random() < knobs.corruptionRate;
        insert.run(corrupt ? { ...order, amount_cents: -amountCents } : order);
        return { orderId: order.order_id, amountCents };
      },
    },
    onClose: () => db.close(),
  });
});
