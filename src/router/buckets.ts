/**
 * Sticky assignment: a request key is hashed (salted by service) into one of 10,000 buckets;
 * a key is on the canary when its bucket is below the canary weight in basis points. As the weight
 * grows, the set of canary buckets only grows, so a key on the canary at 1% stays there at 5%.
 */
export const BUCKETS = 10_000;

/** FNV-1a over UTF-16 code units, then a murmur3 finaliser to spread low-entropy keys. */
export function hashKey(salt: string, key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x2f, 0x01000193); // separator, so ("ab","c") and ("a","bc") differ
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function bucketOf(salt: string, key: string): number {
  return hashKey(salt, key) % BUCKETS;
}

export function isCanary(bucket: number, canaryWeight: number): boolean {
  return bucket < canaryWeight;
}
