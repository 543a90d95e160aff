import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store, TokenRecord, TokenRole } from '../store/store.js';

export type { TokenRole } from '../store/store.js';

/** Weakest first: a role may do everything the roles before it may. */
export const ROLES: readonly TokenRole[] = ['viewer', 'operator', 'admin'];

export const TOKEN_PREFIX = 'augur_';

export function isRole(value: unknown): value is TokenRole {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAllows(held: TokenRole, needed: TokenRole): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** SHA-256 (hex) of a token: what the store keeps, so that a copy of the database grants nothing. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time equality of two hex digests of equal length. */
function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface CreatedToken {
  /** The secret: shown once, never stored. */
  readonly token: string;
  readonly record: TokenRecord;
}

/** A new token: 32 random bytes, base64url, prefixed so that secret scanners recognise it. */
export async function createToken(
  store: Store,
  role: TokenRole,
  name: string | undefined,
  now: number,
): Promise<CreatedToken> {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const id = randomBytes(6).toString('hex');
  const record: TokenRecord = {
    id,
    name: name ?? `${role}-${id}`,
    role,
    hash: hashToken(token),
    createdAt: now,
    lastUsedAt: null,
  };
  await store.saveToken(record);
  return { token, record };
}

/** Who made a request: the name goes to the audit log, the role decides what it may do. */
export interface Principal {
  readonly name: string;
  readonly role: TokenRole;
}

/** Last use is written at most this often per token, so that reads do not turn into writes. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Resolves bearer tokens: the local admin token of this process (for CLI commands on the same
 * machine) or a token from the store. Only hashes are compared, in constant time.
 */
export class TokenAuthority {
  private readonly store: Store;
  private readonly localHash: () => string | null;
  private readonly now: () => number;
  private readonly touched = new Map<string, number>();

  constructor(store: Store, localToken: () => string | null, now: () => number = Date.now) {
    this.store = store;
    this.localHash = () => {
      const local = localToken();
      return local === null || local === '' ? null : hashToken(local);
    };
    this.now = now;
  }

  async authenticate(presented: string): Promise<Principal | null> {
    const hash = hashToken(presented);
    const local = this.localHash();
    if (local !== null && sameDigest(hash, local)) return { name: 'local-admin', role: 'admin' };
    const record = await this.store.findTokenByHash(hash);
    if (record === null || !sameDigest(hash, record.hash)) return null;
    await this.touch(record);
    return { name: record.name, role: record.role };
  }

  private async touch(record: TokenRecord): Promise<void> {
    const now = this.now();
    const last = this.touched.get(record.id) ?? record.lastUsedAt ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    this.touched.set(record.id, now);
    await this.store.touchToken(record.id, now);
  }
}
