/**
 * What a recorded request may not keep: the values of headers, query parameters and body fields
 * whose names look like credentials, or that identify users.
 */

/**
 * Names that carry credentials or identify users (authorization, proxy-authorization, cookie,
 * x-augur-key, api keys, tokens, passwords, sessions, signatures …), matched anywhere in a name.
 */
const CREDENTIAL = /token|secret|key|auth|cookie|session|passw(?:or)?d|credential|signature/i;

/** Short ones match as whole words only: `sig` and `pwd` are credentials, `signal` is not. */
const SHORT = /(?:^|[^a-z])(?:pwd|sig)(?:[^a-z]|$)/;

/**
 * Cheap test of a whole query or body: false means no name in it can be a credential's — unless a
 * name is escaped (`%74oken`, `"\u0074oken"`), which the callers look for as well.
 */
const ANYWHERE = /token|secret|key|auth|cookie|session|passw|credential|sig|pwd/i;

export function isCredentialName(name: string): boolean {
  if (CREDENTIAL.test(name)) return true;
  // camelCase words apart, so that `userPwd` is seen as the word `pwd`.
  return SHORT.test(name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase());
}

const REDACTED = 'redacted';

/** `a=1&b=2` with the values of credential-like names replaced (names judged percent-decoded). */
function redactPairs(text: string): string {
  return text
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: judge the raw name.
      }
      return isCredentialName(decoded) ? `${name}=${REDACTED}` : part;
    })
    .join('&');
}

/** The request target with the values of credential-like query parameters replaced. */
export function redactQuery(target: string): string {
  const q = target.indexOf('?');
  if (q === -1) return target;
  const query = target.slice(q + 1);
  if (!ANYWHERE.test(query) && !query.includes('%')) return target;
  return `${target.slice(0, q)}?${redactPairs(query)}`;
}

/** JSON with the value of every member whose name looks like a credential replaced, at any depth. */
function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([name, item]) => [name, isCredentialName(name) ? REDACTED : redactJson(item)]),
  );
}

/**
 * A body fit to keep: as it came when no name in it can be a credential's; with credential-like
 * values replaced in a form or JSON body; null (not kept) for any other body that may hold one —
 * text, multipart, JSON that does not parse — since its fields cannot be told apart.
 */
export function redactBody(body: Uint8Array, contentType: string | undefined): Uint8Array | null {
  const text = Buffer.from(body).toString('utf8');
  const named = ANYWHERE.test(text);
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/x-www-form-urlencoded') {
    if (!named && !text.includes('%')) return body;
    const redacted = redactPairs(text);
    return redacted === text ? body : Buffer.from(redacted);
  }
  if (type === 'application/json' || type.endsWith('+json')) {
    if (!named && !text.includes('\\u')) return body;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return null;
    }
    const redacted = JSON.stringify(redactJson(parsed));
    // Untouched bodies are kept byte for byte, as the client sent them.
    return redacted === JSON.stringify(parsed) ? body : Buffer.from(redacted);
  }
  return named ? null : body;
}
