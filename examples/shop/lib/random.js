/**
 * Seeded generator (mulberry32): the same SEED gives the same sequence of injected faults, so a
 * run can be reproduced. Replicas mix their index in so they do not fail in lockstep.
 */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
