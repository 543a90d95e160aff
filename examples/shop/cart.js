// cart: prices a checkout and has payments charge it. GET checks out a default basket.
import { callJson } from './lib/http-client.js';
import { dependencyUrl, readKnobs } from './lib/knobs.js';
import { HttpError, main, startService } from './lib/server.js';

const DEFAULT_ITEMS = [{ sku: 'featured-1', priceCents: 1299, quantity: 1 }];

function totalCents(items) {
  if (!Array.isArray(items) || items.length === 0) throw new HttpError(400, 'items must be a non-empty list');
  let total = 0;
  for (const item of items) {
    const { priceCents, quantity = 1 } = item ?? {};
    if (!Number.isInteger(priceCents) || priceCents <= 0 || !Number.isInteger(quantity) || quantity <= 0) {
      throw new HttpError(400, 'each item needs a positive whole priceCents and quantity');
    }
    total += priceCents * quantity;
  }
  return total;
}

main(() => {
  const knobs = readKnobs('cart', { WORK_MS: 2 });
  const payments = dependencyUrl('payments');

  const checkout = async ({ body, key }) => {
    const items = body?.items ?? DEFAULT_ITEMS;
    const amountCents = totalCents(items);
    const paid = await callJson('payments', payments, '/payments', {
      method: 'POST',
      body: { amountCents },
      key,
      timeoutMs: knobs.callTimeoutMs,
    });
    return {
      items: items.length,
      amountCents,
      orderId: paid.body.orderId,
      payments: { version: paid.version, revision: paid.revision },
    };
  };

  startService({ knobs, routes: { 'POST /cart/checkout': checkout, 'GET /cart/checkout': checkout } });
});
