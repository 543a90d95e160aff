/**
 * Seeded pseudo-random generator (xoshiro128**). Deterministic code takes a Random instead of
 * calling Math.random, so a run can be replayed from its seed.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/**
 * xoshiro128** seeded by splitmix32. The state lives in a Uint32Array: number fields would be
 * boxed doubles in V8 once above 2³⁰, so each draw would allocate; this way a draw costs a few
 * nanoseconds, which the simulation (two or more draws per event) and the benchmarks need.
 */
export class SeededRandom implements Random {
  private readonly s = new Uint32Array(4);

  constructor(seed: number) {
    let state = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const a = s[0] as number;
    const b = s[1] as number;
    const c = (s[2] as number) ^ a;
    const d = (s[3] as number) ^ b;
    const m = Math.imul(b, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    s[1] = b ^ c;
    s[0] = a ^ d;
    s[2] = c ^ (b << 9);
    s[3] = (d << 11) | (d >>> 21);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() * 2.3283064365386963e-10; // × 2⁻³², exactly / 2³²
  }
}

/** Random for code at the edge (IDs, jitter) where replay does not matter. */
export const systemRandom: Random = { next: () => Math.random() };
