import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';

describe('deadlines', () => {
  it('expires items in order, none before its deadline, and never one deleted', async () => {
    const deadlines = new Deadlines(40);
    const expired: { name: string; late: number }[] = [];
    const item = (name: string) => {
      const deadline = performance.now() + 40;
      return { deadline, expire: () => expired.push({ name, late: performance.now() - deadline }) };
    };
    const a = item('a');
    deadlines.add(a);
    await sleep(15);
    const b = item('b');
    const c = item('c');
    deadlines.add(b);
    deadlines.add(c);
    deadlines.delete(b);
    await sleep(120);
    expect(expired.map((e) => e.name)).toEqual(['a', 'c']);
    for (const e of expired) expect(e.late).toBeGreaterThanOrEqual(0);
  });

  it('rearms after a quiet spell', async () => {
    const deadlines = new Deadlines(10);
    let fired = 0;
    deadlines.add({ deadline: performance.now() + 10, expire: () => fired++ });
    await sleep(40);
    deadlines.add({ deadline: performance.now() + 10, expire: () => fired++ });
    await sleep(40);
    expect(fired).toBe(2);
  });
});
