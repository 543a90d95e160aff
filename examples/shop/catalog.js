// catalog: lists of products. Called twice per page by the frontend.
import { readKnobs } from './lib/knobs.js';
import { HttpError, main, startService } from './lib/server.js';

const LISTS = new Set(['featured', 'recommended', 'new']);
const PAGE_SIZE = 4;

/** The same list and the same prices on every replica and revision: the catalog is data, not luck. */
function products(list) {
  let h = 2166136261;
  for (const c of list) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return Array.from({ length: PAGE_SIZE }, (_, i) => ({
    sku: `${list}-${i + 1}`,
    name: `${list} item ${i + 1}`,
    priceCents: 500 + ((h + i * 7919) % 4500),
  }));
}

main(() => {
  const knobs = readKnobs('catalog', { WORK_MS: 1 });
  startService({
    knobs,
    routes: {
      'GET /products': ({ url }) => {
        const list = url.searchParams.get('list') ?? 'featured';
        if (!LISTS.has(list)) throw new HttpError(404, `no product list "${list}"`);
        return { list, products: products(list) };
      },
    },
  });
});
