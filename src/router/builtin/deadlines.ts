import { performance } from 'node:perf_hooks';

export interface Expiring {
  /** `performance.now()` time at which `expire` is due. */
  readonly deadline: number;
  expire(): void;
  /** The queue's links while the item is watched; for `Deadlines` alone. */
  older?: Expiring | null;
  newer?: Expiring | null;
}

/**
 * Deadlines that all have the same length, so the order they are added in is the order they fall
 * due: one timer serves them all. A timer per request (set, then cleared) was a measurable part
 * of the router's time per request. The items are linked in that order through their own fields,
 * so that watching one and letting it go allocate nothing and hash nothing.
 */
export class Deadlines {
  private oldest: Expiring | null = null;
  private newest: Expiring | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
  }

  /** Starts watching `item`, whose deadline must be now plus this queue's length. */
  add(item: Expiring): void {
    if (this.watches(item)) return;
    const newest = this.newest;
    item.older = newest;
    item.newer = null;
    if (newest === null) this.oldest = item;
    else newest.newer = item;
    this.newest = item;
    if (this.timer === null) this.arm(this.ms);
  }

  delete(item: Expiring): void {
    if (!this.watches(item)) return;
    const older = item.older ?? null;
    const newer = item.newer ?? null;
    if (older === null) this.oldest = newer;
    else older.newer = newer;
    if (newer === null) this.newest = older;
    else newer.older = older;
    item.older = null;
    item.newer = null;
  }

  private watches(item: Expiring): boolean {
    // Only the oldest item has no older one.
    return (item.older ?? null) !== null || this.oldest === item;
  }

  private arm(delay: number): void {
    // Unref'd: the sockets of the exchanges keep the process alive, a closed router must not.
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(delay))).unref();
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    for (let item = this.oldest; item !== null; item = this.oldest) {
      if (item.deadline > now) {
        this.arm(item.deadline - now);
        return;
      }
      this.delete(item);
      item.expire();
    }
  }
}
