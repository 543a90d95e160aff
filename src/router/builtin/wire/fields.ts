/**
 * Header blocks of HTTP/1.1 messages (RFC 9112 §5), read strictly: whatever two parsers could
 * disagree on (obs-fold, space before the colon, bare CR or LF, control bytes) is rejected, since a
 * proxy that forwards such a message lets the client smuggle a second request past it.
 *
 * Heads are handled as latin1 strings so that every byte maps to one code unit and back unchanged.
 */

/** The largest head (start line and fields) accepted from either side. */
export const MAX_HEAD_BYTES = 64 * 1024;

export interface HeaderField {
  /** Lower-cased field name. */
  readonly name: string;
  /** The value without surrounding whitespace. */
  readonly value: string;
  /** The line as received, forwarded verbatim when the field is kept. */
  readonly line: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: HTAB, SP, visible ASCII and obs-text; no CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Index just past the blank line ending a head that starts at `from`, or -1 if it is incomplete. */
export function headEnd(buffer: Buffer, from: number): number {
  const at = buffer.indexOf(CRLFCRLF, from);
  return at === -1 ? -1 : at + 4;
}

/**
 * Parses the field lines of `head` (a head without its final blank line) from `start`: null when a
 * line is malformed.
 */
export function parseFields(head: string, start: number): HeaderField[] | null {
  const fields: HeaderField[] = [];
  let at = start;
  while (at < head.length) {
    let end = head.indexOf('\r\n', at);
    if (end === -1) end = head.length;
    const line = head.slice(at, end);
    const colon = line.indexOf(':');
    // The token test also rejects obs-fold (a line starting with SP/HTAB) and `name :`.
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) return null;
    const value = trimOws(line, colon + 1);
    if (!FIELD_VALUE.test(value)) return null;
    fields.push({ name: line.slice(0, colon).toLowerCase(), value, line });
    at = end + 2;
  }
  return fields;
}

function trimOws(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && isOws(line.charCodeAt(start))) start++;
  while (end > start && isOws(line.charCodeAt(end - 1))) end--;
  return line.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** The values of every field called `name`, combined with `separator` as RFC 9110 §5.3 allows. */
export function fieldValue(
  fields: readonly HeaderField[],
  name: string,
  separator = ', ',
): string | undefined {
  let value: string | undefined;
  for (const field of fields) {
    if (field.name === name) value = value === undefined ? field.value : value + separator + field.value;
  }
  return value;
}

/** The lower-cased elements of a comma-separated list field (Connection, Transfer-Encoding). */
export function listTokens(value: string): string[] {
  const tokens: string[] = [];
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token.length > 0) tokens.push(token);
  }
  return tokens;
}

/**
 * A Content-Length made of one or more fields or list elements: all must be the same decimal
 * number (RFC 9110 §8.6); anything else is a framing conflict. Returns null when absent, NaN when
 * invalid.
 */
export function contentLength(fields: readonly HeaderField[]): number | null {
  let length: number | null = null;
  for (const field of fields) {
    if (field.name !== 'content-length') continue;
    for (const part of field.value.split(',')) {
      const text = part.trim();
      if (!/^\d{1,15}$/.test(text)) return Number.NaN;
      const value = Number(text);
      if (length !== null && value !== length) return Number.NaN;
      length = value;
    }
  }
  return length;
}

/** How the framing of a body is read from the Transfer-Encoding list. */
export type CodingsVerdict = 'absent' | 'chunked' | 'not-chunked' | 'invalid';

/** Transfer codings: chunked must come last and only once (RFC 9112 §6.1). */
export function transferCodings(fields: readonly HeaderField[]): CodingsVerdict {
  const value = fieldValue(fields, 'transfer-encoding');
  if (value === undefined) return 'absent';
  const codings = listTokens(value);
  if (codings.length === 0) return 'invalid';
  const chunked = codings.indexOf('chunked');
  if (chunked === -1) return 'not-chunked';
  return chunked === codings.length - 1 ? 'chunked' : 'invalid';
}
