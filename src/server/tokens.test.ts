import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { createToken, hashToken, roleAllows, TokenAuthority } from './tokens.js';

describe('tokens', () => {
  it('orders roles: viewer < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('operator', 'admin')).toBe(false);
    expect(roleAllows('viewer', 'operator')).toBe(false);
  });

  it('stores only the hash of a fresh, prefixed 32-byte secret', async () => {
    const store = new SqliteStore(':memory:');
    const { token, record } = await createToken(store, 'operator', 'ci', 5);
    expect(token).toMatch(/^augur_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ name: 'ci', role: 'operator', createdAt: 5, hash: hashToken(token) });
    const stored = JSON.stringify(await store.listTokens());
    expect(stored).not.toContain(token.slice('augur_'.length));
    const other = await createToken(store, 'viewer', undefined, 6);
    expect(other.token).not.toBe(token);
    expect(other.record.name).toBe(`viewer-${other.record.id}`);
    await store.close();
  });

  it('authenticates store tokens and the local admin token; forgets revoked ones', async () => {
    const store = new SqliteStore(':memory:');
    let now = 1_000_000;
    const auth = new TokenAuthority(
      store,
      () => 'local-secret',
      () => now,
    );
    const { token, record } = await createToken(store, 'viewer', 'reader', 0);
    expect(await auth.authenticate(token)).toEqual({ name: 'reader', role: 'viewer' });
    expect(await auth.authenticate('local-secret')).toEqual({ name: 'local-admin', role: 'admin' });
    expect(await auth.authenticate(`${token}x`)).toBeNull();
    expect(await auth.authenticate('')).toBeNull();
    expect((await store.listTokens())[0]?.lastUsedAt).toBe(now);
    now += 1000;
    await auth.authenticate(token);
    // Last use is written at most once a minute.
    expect((await store.listTokens())[0]?.lastUsedAt).toBe(now - 1000);
    await store.revokeToken(record.id);
    expect(await auth.authenticate(token)).toBeNull();
    await store.close();
  });

  it('accepts no local token when none is published', async () => {
    const store = new SqliteStore(':memory:');
    const auth = new TokenAuthority(store, () => '');
    expect(await auth.authenticate('')).toBeNull();
    await store.close();
  });
});
