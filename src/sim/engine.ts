import { SimRandom } from './random.js';
import type { CompiledModel } from './compile.js';
import { DeadlineQueue } from './deadlines.js';
import { ServiceTimeSampler, standardExponential } from './distributions.js';
import { EventHeap } from './event-heap.js';
import { LatencyHistogram } from './histogram.js';
import type { SimModel } from './model.js';

/** Event kinds, in the low two bits of an event's first payload word; the rest is the subject. */
const ARRIVAL = 0;
const DONE = 1;
const TIMER = 2;

/** Attempt flags. */
const MEASURED = 1;
const CALL_MEASURED = 2;
const ABANDONED = 4;

const NONE = -1;

/**
 * The discrete-event engine. One attempt (a request at one revision replica, retries being new
 * attempts) is one slot in struct-of-arrays typed arrays, recycled through a free list; a slot's
 * generation changes when it is freed, so late answers and timeouts addressed to a previous
 * occupant are recognised and dropped. See docs/simulation.md for the semantics.
 */
export class Engine {
  private readonly m: CompiledModel;
  private readonly heap = new EventHeap(1024);
  private readonly warmupMs: number;
  private readonly endMs: number;
  private readonly entry: number;
  now = 0;
  private seq = 0;
  events = 0;

  private readonly arrivals: SimRandom;
  private readonly routing: SimRandom;
  private readonly samplers: ServiceTimeSampler[];
  private segment = 0;

  // Attempts (struct of arrays).
  private capacity = 0;
  private freeHead = NONE;
  private aRev: Int32Array = new Int32Array(0);
  private aReplica: Int32Array = new Int32Array(0);
  private aStart: Float64Array = new Float64Array(0);
  private aCallStart: Float64Array = new Float64Array(0);
  private aParent: Int32Array = new Int32Array(0);
  private aParentGen: Int32Array = new Int32Array(0);
  private aGen: Int32Array = new Int32Array(0);
  private aTries: Int32Array = new Int32Array(0);
  private aFlags: Uint8Array = new Uint8Array(0);
  private aPhase: Int32Array = new Int32Array(0);
  private aPending: Int32Array = new Int32Array(0);
  /** Next attempt in a replica's FIFO queue, or in the free list. */
  private aNext: Int32Array = new Int32Array(0);

  // Replicas.
  private readonly busy: Int32Array;
  private readonly queueHead: Int32Array;
  private readonly queueTail: Int32Array;
  private readonly roundRobin: Int32Array;
  private readonly deadlines: DeadlineQueue[];

  // Measurements per revision (after warm-up).
  readonly revBusy: Int32Array;
  readonly revQueue: Int32Array;
  private readonly revLastChange: Float64Array;
  readonly revBusyArea: Float64Array;
  readonly revQueueArea: Float64Array;
  readonly revMaxQueue: Int32Array;
  readonly revRequests: Float64Array;
  readonly revErrors: Float64Array;
  readonly revTimeouts: Float64Array;
  readonly revCompleted: Float64Array;
  /** Attempts (measured) that got a slot, those that had to wait for it, and their total wait. */
  readonly revStarted: Float64Array;
  readonly revWaited: Float64Array;
  readonly revWaitSum: Float64Array;
  readonly revLatency: LatencyHistogram[];
  // Per service.
  readonly serviceCalls: Float64Array;
  readonly serviceAttempts: Float64Array;
  // End to end at the entrypoint.
  entryErrors = 0;
  readonly entryLatency = new LatencyHistogram();

  constructor(model: SimModel, compiled: CompiledModel, seed: number) {
    this.m = compiled;
    this.warmupMs = model.warmupMs;
    this.endMs = model.warmupMs + model.durationMs;
    this.entry = model.entrypoint;
    // Independent streams: arrivals stay the same when a revision's behaviour changes.
    const master = new SimRandom(seed);
    this.arrivals = new SimRandom(master.nextUint32());
    this.routing = new SimRandom(master.nextUint32());
    this.samplers = model.services.flatMap((s) =>
      s.revisions.map((r) => new ServiceTimeSampler(r.serviceTime, new SimRandom(master.nextUint32()))),
    );
    const revisions = compiled.revisionCount;
    const replicas = compiled.replicaCount;
    this.busy = new Int32Array(replicas);
    this.queueHead = new Int32Array(replicas).fill(NONE);
    this.queueTail = new Int32Array(replicas).fill(NONE);
    this.roundRobin = new Int32Array(revisions);
    this.deadlines = Array.from({ length: compiled.serviceCount }, () => new DeadlineQueue());
    this.revBusy = new Int32Array(revisions);
    this.revQueue = new Int32Array(revisions);
    this.revLastChange = new Float64Array(revisions);
    this.revBusyArea = new Float64Array(revisions);
    this.revQueueArea = new Float64Array(revisions);
    this.revMaxQueue = new Int32Array(revisions);
    this.revRequests = new Float64Array(revisions);
    this.revErrors = new Float64Array(revisions);
    this.revTimeouts = new Float64Array(revisions);
    this.revCompleted = new Float64Array(revisions);
    this.revStarted = new Float64Array(revisions);
    this.revWaited = new Float64Array(revisions);
    this.revWaitSum = new Float64Array(revisions);
    this.revLatency = Array.from({ length: revisions }, () => new LatencyHistogram());
    this.serviceCalls = new Float64Array(compiled.serviceCount);
    this.serviceAttempts = new Float64Array(compiled.serviceCount);
    this.grow(256);
  }

  /** Runs warm-up then the measured period; events at or after the end are left unprocessed. */
  run(): void {
    this.now = 0;
    this.scheduleArrival();
    if (this.warmupMs > 0) {
      this.runUntil(this.warmupMs);
      this.now = this.warmupMs;
      // Time averages start at the end of warm-up, from the queues as they are then.
      for (let r = 0; r < this.m.revisionCount; r++) {
        this.revLastChange[r] = this.warmupMs;
        this.revBusyArea[r] = 0;
        this.revQueueArea[r] = 0;
        this.revMaxQueue[r] = this.revQueue[r] as number;
      }
    }
    this.runUntil(this.endMs);
    this.now = this.endMs;
    for (let r = 0; r < this.m.revisionCount; r++) this.touch(r);
  }

  private runUntil(limit: number): void {
    const heap = this.heap;
    for (;;) {
      const t = heap.peekTime();
      if (!(t < limit)) return;
      heap.pop();
      this.now = t;
      const a = heap.poppedA;
      const kind = a & 3;
      if (kind === DONE) this.onDone(a >> 2);
      else if (kind === ARRIVAL) this.onArrival();
      else this.onTimer(a >> 2);
    }
  }

  // ---- arrivals -------------------------------------------------------------------------------

  private onArrival(): void {
    this.events++;
    const now = this.now;
    this.issue(this.entry, NONE, 0, 0, now >= this.warmupMs ? CALL_MEASURED : 0, NONE);
    this.scheduleArrival();
  }

  /**
   * Schedules the next arrival after now. Poisson arrivals with a piecewise-constant rate: a draw
   * crossing a rate change restarts there (memorylessness makes that exact). Hot methods take no
   * double arguments: V8 boxes a double passed to a call it does not inline.
   */
  private scheduleArrival(): void {
    const segFrom = this.m.segmentFrom;
    const segRate = this.m.segmentRate;
    const last = segFrom.length - 1;
    let t = this.now;
    for (;;) {
      while (this.segment < last && (segFrom[this.segment + 1] as number) <= t) this.segment++;
      const boundary = this.segment < last ? (segFrom[this.segment + 1] as number) : Number.POSITIVE_INFINITY;
      const rate = segRate[this.segment] as number;
      if (rate > 0) {
        const next = t + standardExponential(this.arrivals) / rate;
        if (next < boundary) {
          if (next < this.endMs) this.heap.push(next, this.seq++, ARRIVAL, 0);
          return;
        }
      }
      if (boundary >= this.endMs) return;
      t = boundary;
    }
  }

  // ---- attempts -------------------------------------------------------------------------------

  /**
   * Sends one attempt of a call to service `s`: picks a revision by share and a replica
   * round-robin. A first attempt starts its call now; a retry (`retryOf`, the failed attempt)
   * keeps its call's start time.
   */
  private issue(
    s: number,
    parent: number,
    parentGen: number,
    tries: number,
    callFlags: number,
    retryOf: number,
  ): void {
    const m = this.m;
    const a = this.freeHead === NONE ? this.grow(this.capacity * 2) : this.freeHead;
    this.freeHead = this.aNext[a] as number;
    let rev = m.serviceRevStart[s] as number;
    const revEnd = (m.serviceRevStart[s + 1] as number) - 1;
    if (rev < revEnd) {
      const u = this.routing.next();
      while (rev < revEnd && u >= (m.revShareCum[rev] as number)) rev++;
    }
    const first = m.revReplicaStart[rev] as number;
    const count = (m.revReplicaStart[rev + 1] as number) - first;
    let turn = this.roundRobin[rev] as number;
    const replica = first + turn;
    if (++turn === count) turn = 0;
    this.roundRobin[rev] = turn;

    const now = this.now;
    const measured = now >= this.warmupMs;
    this.aRev[a] = rev;
    this.aReplica[a] = replica;
    this.aStart[a] = now;
    this.aCallStart[a] = retryOf === NONE ? now : (this.aCallStart[retryOf] as number);
    this.aParent[a] = parent;
    this.aParentGen[a] = parentGen;
    this.aTries[a] = tries;
    this.aFlags[a] = measured ? callFlags | MEASURED : callFlags;
    if (measured) {
      this.serviceAttempts[s] = (this.serviceAttempts[s] as number) + 1;
      if (tries === 0) this.serviceCalls[s] = (this.serviceCalls[s] as number) + 1;
      this.revRequests[rev] = (this.revRequests[rev] as number) + 1;
    }
    const timeout = m.serviceTimeout[s] as number;
    if (timeout < Number.POSITIVE_INFINITY) {
      const queue = this.deadlines[s] as DeadlineQueue;
      const deadline = now + timeout;
      const seq = this.seq++;
      queue.push(a, this.aGen[a] as number, deadline, seq);
      if (!queue.armed) {
        queue.armed = true;
        this.heap.push(deadline, seq, (s << 2) | TIMER, 0);
      }
    }

    this.touch(rev);
    if ((this.busy[replica] as number) < (m.revConcurrency[rev] as number)) {
      this.busy[replica] = (this.busy[replica] as number) + 1;
      this.revBusy[rev] = (this.revBusy[rev] as number) + 1;
      if (measured) this.revStarted[rev] = (this.revStarted[rev] as number) + 1;
      this.startWork(a, rev);
    } else {
      this.aNext[a] = NONE;
      const tail = this.queueTail[replica] as number;
      if (tail === NONE) this.queueHead[replica] = a;
      else this.aNext[tail] = a;
      this.queueTail[replica] = a;
      const length = (this.revQueue[rev] as number) + 1;
      this.revQueue[rev] = length;
      if (length > (this.revMaxQueue[rev] as number)) this.revMaxQueue[rev] = length;
    }
  }

  private startWork(a: number, rev: number): void {
    const t = this.now + (this.samplers[rev] as ServiceTimeSampler).sample();
    this.heap.push(t, this.seq++, (a << 2) | DONE, 0);
  }

  /** Own work done: CPU is accounted, then the attempt errors or starts its calls. */
  private onDone(a: number): void {
    this.events++;
    const rev = this.aRev[a] as number;
    if (this.now >= this.warmupMs) this.revCompleted[rev] = (this.revCompleted[rev] as number) + 1;
    const p = this.m.revErrorProbability[rev] as number;
    if (p > 0 && (this.samplers[rev] as ServiceTimeSampler).random.next() < p) {
      this.finish(a, false);
      return;
    }
    this.aPhase[a] = this.m.serviceCallStart[this.m.revService[rev] as number] as number;
    this.advance(a);
  }

  /** Makes the next call entry with at least one call (from aPhase on), or finishes the attempt. */
  private advance(a: number): void {
    const m = this.m;
    const end = m.serviceCallStart[(m.revService[this.aRev[a] as number] as number) + 1] as number;
    for (let k = this.aPhase[a] as number; k < end; k++) {
      let n = m.callWhole[k] as number;
      const fraction = m.callFraction[k] as number;
      if (fraction > 0 && this.routing.next() < fraction) n++;
      if (n === 0) continue;
      this.aPhase[a] = k;
      const target = m.callService[k] as number;
      const gen = this.aGen[a] as number;
      const flags = this.now >= this.warmupMs ? CALL_MEASURED : 0;
      if (m.callParallel[k] === 1) {
        this.aPending[a] = n;
        for (let i = 0; i < n; i++) this.issue(target, a, gen, 0, flags, NONE);
      } else {
        this.aPending[a] = n - 1;
        this.issue(target, a, gen, 0, flags, NONE);
      }
      return;
    }
    this.finish(a, true);
  }

  /** The attempt answers: its slot goes to the next queued attempt, and its caller hears of it. */
  private finish(a: number, ok: boolean): void {
    const rev = this.aRev[a] as number;
    const replica = this.aReplica[a] as number;
    this.touch(rev);
    const next = this.queueHead[replica] as number;
    if (next !== NONE) {
      const after = this.aNext[next] as number;
      this.queueHead[replica] = after;
      if (after === NONE) this.queueTail[replica] = NONE;
      this.revQueue[rev] = (this.revQueue[rev] as number) - 1;
      if (((this.aFlags[next] as number) & MEASURED) !== 0) {
        this.revStarted[rev] = (this.revStarted[rev] as number) + 1;
        this.revWaited[rev] = (this.revWaited[rev] as number) + 1;
        this.revWaitSum[rev] = (this.revWaitSum[rev] as number) + this.now - (this.aStart[next] as number);
      }
      this.startWork(next, rev);
    } else {
      this.busy[replica] = (this.busy[replica] as number) - 1;
      this.revBusy[rev] = (this.revBusy[rev] as number) - 1;
    }
    const flags = this.aFlags[a] as number;
    if ((flags & (MEASURED | ABANDONED)) === MEASURED) {
      (this.revLatency[rev] as LatencyHistogram).record(this.now - (this.aStart[a] as number));
      if (!ok) this.revErrors[rev] = (this.revErrors[rev] as number) + 1;
    }
    // An abandoned attempt's caller has moved on (it timed out): nobody hears of the answer.
    if ((flags & ABANDONED) === 0) this.deliver(a, ok);
    this.release(a);
  }

  /**
   * The outcome of attempt `a` (still allocated) reaches its caller: retry, or pass the call's
   * result up.
   */
  private deliver(a: number, ok: boolean): void {
    const parent = this.aParent[a] as number;
    const parentGen = this.aParentGen[a] as number;
    if (parent !== NONE && this.aGen[parent] !== parentGen) return; // the caller has already failed
    const flags = this.aFlags[a] as number;
    const tries = this.aTries[a] as number;
    const s = this.m.revService[this.aRev[a] as number] as number;
    if (!ok && tries < (this.m.serviceRetries[s] as number)) {
      this.issue(s, parent, parentGen, tries + 1, flags & CALL_MEASURED, a);
      return;
    }
    if (parent === NONE) {
      if ((flags & CALL_MEASURED) !== 0) {
        this.entryLatency.record(this.now - (this.aCallStart[a] as number));
        if (!ok) this.entryErrors++;
      }
      return;
    }
    if (!ok) {
      this.finish(parent, false);
      return;
    }
    const m = this.m;
    const k = this.aPhase[parent] as number;
    if (m.callParallel[k] === 1) {
      const pending = (this.aPending[parent] as number) - 1;
      this.aPending[parent] = pending;
      if (pending === 0) {
        this.aPhase[parent] = k + 1;
        this.advance(parent);
      }
    } else if ((this.aPending[parent] as number) > 0) {
      this.aPending[parent] = (this.aPending[parent] as number) - 1;
      const callFlags = this.now >= this.warmupMs ? CALL_MEASURED : 0;
      this.issue(m.callService[k] as number, parent, parentGen, 0, callFlags, NONE);
    } else {
      this.aPhase[parent] = k + 1;
      this.advance(parent);
    }
  }

  // ---- timeouts -------------------------------------------------------------------------------

  /** The earliest pending deadline of calls to service `s` is due. */
  private onTimer(s: number): void {
    const queue = this.deadlines[s] as DeadlineQueue;
    const a = queue.slots[queue.head] as number;
    const gen = queue.gens[queue.head] as number;
    queue.shift();
    // Re-arm first on the next live deadline: firing may queue a retry behind it.
    while (queue.size > 0 && this.aGen[queue.slots[queue.head] as number] !== queue.gens[queue.head])
      queue.shift();
    if (queue.size > 0) {
      const i = queue.head;
      this.heap.push(queue.deadlines[i] as number, queue.seqs[i] as number, (s << 2) | TIMER, 0);
    } else {
      queue.armed = false;
    }
    if (this.aGen[a] !== gen) return; // answered in time
    const parent = this.aParent[a] as number;
    if (parent !== NONE && this.aGen[parent] !== this.aParentGen[a]) return; // caller already gone
    this.events++;
    const flags = this.aFlags[a] as number;
    this.aFlags[a] = flags | ABANDONED;
    const rev = this.aRev[a] as number;
    if ((flags & MEASURED) !== 0) {
      this.revTimeouts[rev] = (this.revTimeouts[rev] as number) + 1;
      (this.revLatency[rev] as LatencyHistogram).record(this.now - (this.aStart[a] as number));
    }
    this.deliver(a, false);
  }

  // ---- bookkeeping ----------------------------------------------------------------------------

  /** Accumulates busy slots and queue length over time, up to now. */
  private touch(rev: number): void {
    const dt = this.now - (this.revLastChange[rev] as number);
    if (dt > 0) {
      this.revBusyArea[rev] = (this.revBusyArea[rev] as number) + (this.revBusy[rev] as number) * dt;
      this.revQueueArea[rev] = (this.revQueueArea[rev] as number) + (this.revQueue[rev] as number) * dt;
      this.revLastChange[rev] = this.now;
    }
  }

  private release(a: number): void {
    this.aGen[a] = ((this.aGen[a] as number) + 1) | 0;
    this.aNext[a] = this.freeHead;
    this.freeHead = a;
  }

  /** Grows the attempt arrays to `capacity` and returns the first new (free) slot. */
  private grow(capacity: number): number {
    const old = this.capacity;
    this.aRev = widenI32(this.aRev, capacity);
    this.aReplica = widenI32(this.aReplica, capacity);
    this.aStart = widenF64(this.aStart, capacity);
    this.aCallStart = widenF64(this.aCallStart, capacity);
    this.aParent = widenI32(this.aParent, capacity);
    this.aParentGen = widenI32(this.aParentGen, capacity);
    this.aGen = widenI32(this.aGen, capacity);
    this.aTries = widenI32(this.aTries, capacity);
    const flags = new Uint8Array(capacity);
    flags.set(this.aFlags);
    this.aFlags = flags;
    this.aPhase = widenI32(this.aPhase, capacity);
    this.aPending = widenI32(this.aPending, capacity);
    this.aNext = widenI32(this.aNext, capacity);
    for (let i = old; i < capacity; i++) this.aNext[i] = i + 1 < capacity ? i + 1 : this.freeHead;
    this.freeHead = old;
    this.capacity = capacity;
    return old;
  }
}

function widenI32(array: Int32Array, capacity: number): Int32Array {
  const next = new Int32Array(capacity);
  next.set(array);
  return next;
}

function widenF64(array: Float64Array, capacity: number): Float64Array {
  const next = new Float64Array(capacity);
  next.set(array);
  return next;
}
