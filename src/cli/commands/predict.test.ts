import { fileURLToPath } from 'node:url';
import { describe as suite, expect, it } from 'vitest';
import { loadConfiguration } from '../../config/index.js';
import { shopResult } from '../../predict/report/fixture.js';
import { describe } from './predict.js';

const SHOP = fileURLToPath(new URL('../../../examples/shop/augur.yaml', import.meta.url));
const RISK = { low: 0.1, high: 0.5 };

suite('the summary `augur predict` prints', () => {
  it('says what the scenario percentages are', () => {
    expect(describe(shopResult(), RISK)).toContain(
      '\n  share of runs breaching a limit, by scenario: nominal 58%, diurnal-peak 65%, spike 80%; 200 seeds per scenario\n',
    );
  });

  it('says what the CPU column is a share of, and what over 100% means in cores', async () => {
    const loaded = await loadConfiguration([SHOP]);
    if (!loaded.ok) throw new Error('the shop does not load');
    const text = describe(shopResult(), RISK, loaded.value.application);
    expect(text).toContain(
      '\n  cart v3, predicted at 90% confidence (cpu: share of 2 replicas × 0.13 cores = 0.26 cores):\n',
    );
    expect(text).toMatch(/\n {4}100% .* 121–140%\n/);
    expect(text).toContain(
      "\n  cpu is a share of the revision's allocation (replicas × resources.cpu cores); above 100% it needs more than it has\n" +
        '    the most: cart v3 at the 100% tier, up to 140% of 0.26 cores = 0.36 cores\n',
    );
    // Without the application, in multiples of the allocation.
    expect(describe(shopResult(), RISK)).toContain(
      '    the most: cart v3 at the 100% tier, up to 1.40× its allocation\n',
    );
  });
});
