import { describe, expect, it } from 'vitest';
import { SimRandom } from './random.js';
import { EventHeap } from './event-heap.js';

describe('EventHeap', () => {
  it('pops in time order, equal times in insertion (sequence) order, growing past its capacity', () => {
    const heap = new EventHeap(4);
    const random = new SimRandom(7);
    const pushed: { time: number; seq: number }[] = [];
    for (let seq = 0; seq < 5000; seq++) {
      // Few distinct times, so ties are common.
      const time = Math.floor(random.next() * 50);
      heap.push(time, seq, seq, seq + 1);
      pushed.push({ time, seq });
    }
    pushed.sort((x, y) => x.time - y.time || x.seq - y.seq);
    const popped: { time: number; seq: number }[] = [];
    while (heap.size > 0) {
      const time = heap.peekTime();
      heap.pop();
      expect(heap.poppedB).toBe(heap.poppedA + 1);
      popped.push({ time, seq: heap.poppedA });
    }
    expect(popped).toEqual(pushed);
    expect(heap.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });

  it('interleaves pushes and pops like a sorted list', () => {
    const heap = new EventHeap(2);
    const random = new SimRandom(11);
    const reference: { time: number; seq: number }[] = [];
    let seq = 0;
    for (let step = 0; step < 20_000; step++) {
      if (random.next() < 0.55 || reference.length === 0) {
        const time = Math.floor(random.next() * 100) / 4;
        heap.push(time, seq, seq, 0);
        reference.push({ time, seq });
        seq++;
      } else {
        reference.sort((x, y) => x.time - y.time || x.seq - y.seq);
        const first = reference.shift();
        expect(heap.peekTime()).toBe(first?.time);
        heap.pop();
        expect(heap.poppedA).toBe(first?.seq);
      }
    }
    expect(heap.size).toBe(reference.length);
  });
});
