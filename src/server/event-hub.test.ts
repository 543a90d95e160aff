import { describe, expect, it } from 'vitest';
import type { ReleaseEvent } from '../controller/core/events.js';
import { EventHub } from './event-hub.js';

const event = (sequence: number): ReleaseEvent => ({
  sequence,
  at: sequence,
  release: 'r',
  service: null,
  type: 'operator',
  signal: null,
  message: `e${sequence}`,
  data: {},
});

describe('EventHub', () => {
  it('numbers events across releases and replays those after an id it still holds', () => {
    const hub = new EventHub({ capacity: 3, epoch: 'abc' });
    const seen: string[] = [];
    const stop = hub.subscribe((e) => seen.push(e.id));
    for (let i = 0; i < 5; i++) hub.publish(event(i));
    stop();
    hub.publish(event(5));
    expect(seen).toEqual(['abc-1', 'abc-2', 'abc-3', 'abc-4', 'abc-5']);
    expect(hub.since('abc-4')?.map((e) => e.event.sequence)).toEqual([4, 5]);
    expect(hub.since('abc-3')?.map((e) => e.n)).toEqual([4, 5, 6]);
    expect(hub.since('abc-6')).toEqual([]);
    // Too far behind, from another run, from the future, or not an id at all: reload instead.
    expect(hub.since('abc-2')).toBeNull();
    expect(hub.since('xyz-5')).toBeNull();
    expect(hub.since('abc-9')).toBeNull();
    expect(hub.since('nonsense')).toBeNull();
  });

  it('keeps publishing when an observer throws', () => {
    const hub = new EventHub();
    const seen: number[] = [];
    hub.subscribe(() => {
      throw new Error('broken');
    });
    hub.subscribe((e) => seen.push(e.n));
    hub.publish(event(0));
    expect(seen).toEqual([1]);
  });
});
