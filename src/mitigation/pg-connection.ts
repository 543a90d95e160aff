/**
 * A PostgreSQL connection string split into what may go on a command line and its password. Any
 * user of the machine can read a process's arguments (`ps`, /proc), so pg_dump and pg_restore get
 * the password through PGPASSWORD, which libpq reads when the connection string holds none.
 */
export interface PgConnection {
  /** The connection string without its password. */
  readonly conn: string;
  /** Null when the string held none (libpq may still find one in PGPASSWORD or ~/.pgpass). */
  readonly password: string | null;
}

/** `postgres[ql]://[user[:password]@]host…`: the userinfo runs to the last `@` before the path. */
const URI = /^(postgres(?:ql)?:\/\/)(?:([^/?#]*)@)?(.*)$/is;

/** `password = value` among libpq's `keyword=value` pairs, the value single-quoted or bare. */
const KEYWORD = /(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i;

export function splitPassword(text: string): PgConnection {
  const uri = URI.exec(text);
  if (uri !== null) return splitUri(uri[1] ?? '', uri[2], uri[3] ?? '');
  const keyword = KEYWORD.exec(text);
  if (keyword === null) return { conn: text, password: null };
  const value = keyword[2] ?? '';
  const password = value.startsWith("'") ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
  const conn = `${text.slice(0, keyword.index)}${keyword[1] ?? ''}${text.slice(keyword.index + keyword[0].length)}`;
  return { conn: conn.replace(/\s+/g, ' ').trim(), password };
}

function splitUri(scheme: string, userinfo: string | undefined, rest: string): PgConnection {
  let password: string | null = null;
  let user = userinfo;
  const colon = userinfo?.indexOf(':') ?? -1;
  if (userinfo !== undefined && colon !== -1) {
    user = userinfo.slice(0, colon);
    password = decode(userinfo.slice(colon + 1));
  }
  // libpq also takes the password as a query parameter.
  const q = rest.indexOf('?');
  let tail = rest;
  if (q !== -1) {
    const kept: string[] = [];
    for (const part of rest.slice(q + 1).split('&')) {
      if (/^password=/i.test(part)) password ??= decode(part.slice('password='.length));
      else kept.push(part);
    }
    tail = kept.length === 0 ? rest.slice(0, q) : `${rest.slice(0, q)}?${kept.join('&')}`;
  }
  const who = user === undefined || user === '' ? '' : `${user}@`;
  return { conn: `${scheme}${who}${tail}`, password };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
