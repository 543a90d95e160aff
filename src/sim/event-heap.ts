/**
 * The simulation's future-event list: a binary min-heap over parallel typed arrays, ordered by
 * (time, sequence). The sequence is a number the caller draws from one counter, so events at the
 * same time pop in the order they were scheduled. An event carries two 32-bit integers of payload;
 * nothing is allocated per event, and the arrays double when full.
 */
export class EventHeap {
  private times: Float64Array;
  private seqs: Float64Array;
  private as: Int32Array;
  private bs: Int32Array;
  private count = 0;
  /** Payload of the event last returned by pop(). */
  poppedA = 0;
  poppedB = 0;

  constructor(capacity = 1024) {
    const n = Math.max(4, capacity | 0);
    this.times = new Float64Array(n);
    this.seqs = new Float64Array(n);
    this.as = new Int32Array(n);
    this.bs = new Int32Array(n);
  }

  get size(): number {
    return this.count;
  }

  /** Time of the next event; +Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Number.POSITIVE_INFINITY : (this.times[0] as number);
  }

  push(time: number, seq: number, a: number, b: number): void {
    if (this.count === this.times.length) this.grow();
    const times = this.times;
    const seqs = this.seqs;
    const as = this.as;
    const bs = this.bs;
    // Sift up with a hole: parents move down until the new event's place is found.
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt < time || (pt === time && (seqs[parent] as number) < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent] as number;
      as[i] = as[parent] as number;
      bs[i] = bs[parent] as number;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    as[i] = a;
    bs[i] = b;
  }

  /**
   * Removes the earliest event (read its time with peekTime() first); its payload is left in
   * poppedA/poppedB. Returns nothing: a double returned from a call that is not inlined is boxed
   * (allocated) by V8. The heap must not be empty.
   */
  pop(): void {
    const times = this.times;
    const seqs = this.seqs;
    const as = this.as;
    const bs = this.bs;
    this.poppedA = as[0] as number;
    this.poppedB = bs[0] as number;
    const n = --this.count;
    if (n === 0) return;
    // Sift the last event down from the root with a hole.
    const time = times[n] as number;
    const seq = seqs[n] as number;
    const a = as[n] as number;
    const b = bs[n] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let ct = times[child] as number;
      const right = child + 1;
      if (right < n) {
        const rt = times[right] as number;
        if (rt < ct || (rt === ct && (seqs[right] as number) < (seqs[child] as number))) {
          child = right;
          ct = rt;
        }
      }
      if (ct > time || (ct === time && (seqs[child] as number) > seq)) break;
      times[i] = ct;
      seqs[i] = seqs[child] as number;
      as[i] = as[child] as number;
      bs[i] = bs[child] as number;
      i = child;
    }
    times[i] = time;
    seqs[i] = seq;
    as[i] = a;
    bs[i] = b;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const times = new Float64Array(n);
    times.set(this.times);
    this.times = times;
    const seqs = new Float64Array(n);
    seqs.set(this.seqs);
    this.seqs = seqs;
    const as = new Int32Array(n);
    as.set(this.as);
    this.as = as;
    const bs = new Int32Array(n);
    bs.set(this.bs);
    this.bs = bs;
  }
}
