/**
 * Configuration may put credentials inside addresses: `postgres://user:password@host/db`, an
 * `http://user:password@…` check, a PostgreSQL `password=…` keyword or query parameter. Text built
 * from such an address — an error message, an event, an API answer, a log line — passes through
 * here before it leaves the process, so that the secret never does.
 */

const MASK = '***';

/**
 * `scheme://userinfo@`: the userinfo runs to the last `@` before the authority ends, so that a
 * password holding an unescaped `@` is masked whole.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/gi;

/** `password=VALUE` (a libpq keyword, a query parameter, `--password=`), VALUE quoted or not. */
const PASSWORD = /(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&'"]+)/gi;

/**
 * The text with the password of every `scheme://user:password@` replaced by `***` (a userinfo
 * without a password may itself be a token, as in `https://TOKEN@host`: it is masked whole) and
 * the value of every `password=` masked.
 */
export function redactSecrets(text: string): string {
  if (!text.includes('@') && !/password/i.test(text)) return text;
  return text
    .replace(USERINFO, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon === -1 ? `${scheme}${MASK}@` : `${scheme}${userinfo.slice(0, colon)}:${MASK}@`;
    })
    .replace(PASSWORD, (_match, key: string) => `${key}${MASK}`);
}

/** A copy of JSON-like data with every string passed through `redactSecrets`. */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item)]));
  }
  return value;
}
