/**
 * The pending timeouts of calls to one service, in a growable ring. Every call to a service has
 * the same timeoutMs and calls are made in time order, so deadlines arrive already sorted: the
 * engine keeps only the earliest live one in the event heap, and timeouts of calls that answered
 * in time are dropped here without ever being popped from the heap.
 */
export class DeadlineQueue {
  slots = new Int32Array(64);
  gens = new Int32Array(64);
  deadlines = new Float64Array(64);
  seqs = new Float64Array(64);
  head = 0;
  size = 0;
  /** Whether the head has an event in the heap (true exactly when the queue is not empty). */
  armed = false;

  push(slot: number, gen: number, deadline: number, seq: number): void {
    if (this.size === this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    const i = (this.head + this.size) & mask;
    this.slots[i] = slot;
    this.gens[i] = gen;
    this.deadlines[i] = deadline;
    this.seqs[i] = seq;
    this.size++;
  }

  shift(): void {
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.size--;
  }

  private grow(): void {
    const n = this.slots.length;
    const slots = new Int32Array(n * 2);
    const gens = new Int32Array(n * 2);
    const deadlines = new Float64Array(n * 2);
    const seqs = new Float64Array(n * 2);
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & (n - 1);
      slots[k] = this.slots[i] as number;
      gens[k] = this.gens[i] as number;
      deadlines[k] = this.deadlines[i] as number;
      seqs[k] = this.seqs[i] as number;
    }
    this.slots = slots;
    this.gens = gens;
    this.deadlines = deadlines;
    this.seqs = seqs;
    this.head = 0;
  }
}
