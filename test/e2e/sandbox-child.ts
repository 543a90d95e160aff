/**
 * A process that runs the sandbox and then dies in the way argv[2] names, for the tests that check
 * nothing survives it: `crash` (an uncaught exception), `sigint` (waits for a SIGINT it does not
 * handle itself), `hang` (waits to be killed outright). Prints `{ stateDir, pids }` once the
 * sandbox's processes run.
 */
import { loadConfiguration } from '../../src/config/index.js';
import { profileRelease } from '../../src/sandbox/index.js';
import { repoRoot } from './helpers.js';

const mode = process.argv[2] ?? 'crash';
const loaded = await loadConfiguration(['examples/shop/augur.yaml', 'examples/shop/releases/cart-v3.yaml'], {
  cwd: repoRoot,
});
if (!loaded.ok) throw new Error('cannot load the shop');
const release = loaded.value.releases[0];
if (release === undefined) throw new Error('no release');

await profileRelease(loaded.value, release, {
  ...(process.env.SANDBOX_TMP === undefined ? {} : { tmpDir: process.env.SANDBOX_TMP }),
  dataFiles: { payments: { ORDERS_DB: 'examples/shop/data/orders.db' } },
  paths: { cart: '/cart/checkout' },
  rates: [10],
  stepMs: 60_000,
  onStarted: (info) => {
    process.stdout.write(`${JSON.stringify(info)}\n`);
    if (mode === 'crash')
      setImmediate(() => {
        throw new Error('simulated crash of Augur');
      });
  },
});
