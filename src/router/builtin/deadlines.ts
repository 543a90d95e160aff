import { performance } from 'node:perf_hooks';

export interface Expiring {
  /** `performance.now()` time at which `expire` is due. */
  readonly deadline: number;
  expire(): void;
}

/**
 * Deadlines that all have the same length, so the order they are added in is the order they fall
 * due: one timer serves them all. A timer per request (set, then cleared) was a measurable part
 * of the router's time per request.
 */
export class Deadlines {
  private readonly items = new Set<Expiring>();
  private timer: NodeJS.Timeout | null = null;
  private readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
  }

  /** Starts watching `item`, whose deadline must be now plus this queue's length. */
  add(item: Expiring): void {
    this.items.add(item);
    if (this.timer === null) this.arm(this.ms);
  }

  delete(item: Expiring): void {
    this.items.delete(item);
  }

  private arm(delay: number): void {
    // Unref'd: the sockets of the exchanges keep the process alive, a closed router must not.
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(delay))).unref();
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    for (const item of this.items) {
      if (item.deadline > now) {
        this.arm(item.deadline - now);
        return;
      }
      this.items.delete(item);
      item.expire();
    }
  }
}
