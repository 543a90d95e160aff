export const KEY_HEADER = 'x-augur-key';
export const KEY_COOKIE = 'augur-key';

/**
 * The request key for sticky assignment: the `x-augur-key` header, else the `augur-key` cookie,
 * else null (the caller decides: mint a key at the entrypoint, or use the client address).
 * Both arguments are the combined values of their fields, as received.
 */
export function requestKey(keyHeader: string | undefined, cookie: string | undefined): string | null {
  if (keyHeader !== undefined && keyHeader.length > 0) return keyHeader;
  if (cookie !== undefined) return cookieValue(cookie, KEY_COOKIE);
  return null;
}

export function cookieValue(cookieHeader: string, name: string): string | null {
  let start = 0;
  while (start < cookieHeader.length) {
    let end = cookieHeader.indexOf(';', start);
    if (end === -1) end = cookieHeader.length;
    const eq = cookieHeader.indexOf('=', start);
    if (eq !== -1 && eq < end && cookieHeader.slice(start, eq).trim() === name) {
      const value = cookieHeader.slice(eq + 1, end).trim();
      return value.length > 0 ? value : null;
    }
    start = end + 1;
  }
  return null;
}

export function keyCookie(key: string): string {
  return `${KEY_COOKIE}=${key}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000`;
}
