import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../config/index.js';
import { predictPipeline } from './pipeline.js';

describe('predictPipeline', () => {
  it('names the store without the password its URL holds', async () => {
    const loaded = await loadConfiguration([
      'examples/shop/augur.yaml',
      'examples/shop/releases/cart-v2.yaml',
    ]);
    if (!loaded.ok) throw new Error('shop config invalid');
    const { application, releases } = loaded.value;
    const config = {
      ...loaded.value,
      application: { ...application, store: { url: 'postgres://augur:s3cret@db.internal/augur' } },
    };
    const { notes } = await predictPipeline(config, releases[0]!, {
      sandbox: false,
      record: false,
      defaultRatePerSec: 20,
      seeds: 1,
      durationSec: 10,
    });
    expect(notes.join('\n')).toContain('postgres://augur:***@db.internal/augur');
    expect(notes.join('\n')).not.toContain('s3cret');
  });
});
