import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Expiring } from './deadlines.js';
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

  it('lets go of the oldest, the newest and one between, and of items never added', async () => {
    const deadlines = new Deadlines(20);
    const expired: string[] = [];
    const item = (name: string) => ({ deadline: performance.now() + 20, expire: () => expired.push(name) });
    const items = ['a', 'b', 'c', 'd', 'e', 'f'].map(item);
    for (const i of items) deadlines.add(i);
    deadlines.add(items[1] as Expiring); // again: no change
    for (const at of [0, 5, 2]) deadlines.delete(items[at] as Expiring);
    deadlines.delete(items[2] as Expiring);
    deadlines.delete(item('g'));
    await sleep(60);
    expect(expired).toEqual(['b', 'd', 'e']);
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
