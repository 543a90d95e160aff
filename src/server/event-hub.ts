import type { ReleaseEvent } from '../controller/core/events.js';

/** A release event as the server-wide stream numbers it. */
export interface HubEvent {
  /** `<epoch>-<n>`: unique across restarts of the server, increasing within one. */
  readonly id: string;
  readonly n: number;
  readonly event: ReleaseEvent;
}

export type HubListener = (entry: HubEvent) => void;

/**
 * Fans the controller's events out to live observers (SSE streams, metrics, progress output).
 * Release events are numbered per release in the store; the server-wide stream needs one order
 * across releases, which only this process knows, so it keeps the most recent entries in memory
 * for clients that reconnect with `Last-Event-ID`. A client from before a restart (another epoch)
 * or further behind than the buffer is told to reload instead.
 */
export class EventHub {
  readonly epoch: string;
  private readonly listeners = new Set<HubListener>();
  private readonly buffer: HubEvent[] = [];
  private readonly capacity: number;
  private n = 0;

  constructor(options: { capacity?: number; epoch?: string } = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.epoch = options.epoch ?? Date.now().toString(36);
  }

  publish(event: ReleaseEvent): void {
    this.n += 1;
    const entry: HubEvent = { id: `${this.epoch}-${this.n}`, n: this.n, event };
    this.buffer.push(entry);
    if (this.buffer.length > this.capacity) this.buffer.shift();
    for (const listener of [...this.listeners]) {
      try {
        listener(entry);
      } catch {
        // One broken observer must not starve the others (or the controller that publishes).
      }
    }
  }

  subscribe(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Entries after `lastId`, or null when they cannot all be given (restart, or too far behind). */
  since(lastId: string): HubEvent[] | null {
    const match = /^([0-9a-z]+)-(\d+)$/.exec(lastId);
    if (match === null || match[1] !== this.epoch) return null;
    const after = Number(match[2]);
    if (after > this.n) return null;
    const oldest = this.buffer[0]?.n ?? this.n + 1;
    if (after + 1 < oldest) return null;
    return this.buffer.filter((e) => e.n > after);
  }
}
