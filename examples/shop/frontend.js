// frontend: the entrypoint. One page = two catalog lists in parallel, then a cart checkout.
import { callJson } from './lib/http-client.js';
import { dependencyUrl, readKnobs } from './lib/knobs.js';
import { main, startService } from './lib/server.js';

main(() => {
  const knobs = readKnobs('frontend', { WORK_MS: 1 });
  const catalog = dependencyUrl('catalog');
  const cart = dependencyUrl('cart');
  const options = (key) => ({ key, timeoutMs: knobs.callTimeoutMs });

  startService({
    knobs,
    routes: {
      'GET /': async ({ key }) => {
        const [featured, recommended] = await Promise.all([
          callJson('catalog', catalog, '/products?list=featured', options(key)),
          callJson('catalog', catalog, '/products?list=recommended', options(key)),
        ]);
        const picks = [featured.body.products[0], recommended.body.products[0]].filter(Boolean);
        const items = picks.map(({ sku, priceCents }) => ({ sku, priceCents, quantity: 1 }));
        const checkout = await callJson('cart', cart, '/cart/checkout', {
          ...options(key),
          method: 'POST',
          body: { items },
        });
        return {
          page: 'home',
          user: key ?? null,
          featured: featured.body.products.map((p) => p.sku),
          recommended: recommended.body.products.map((p) => p.sku),
          order: { orderId: checkout.body.orderId, amountCents: checkout.body.amountCents },
          // Which revision served each hop: what a user of a canary actually got.
          served: {
            catalog: [featured.version, recommended.version],
            cart: checkout.version,
            payments: checkout.body.payments?.version,
          },
        };
      },
    },
  });
});
