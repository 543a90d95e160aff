/**
 * Header blocks of HTTP/1.1 messages (RFC 9112 §5), read strictly: whatever two parsers could
 * disagree on (obs-fold, space before the colon, bare CR or LF, control bytes) is rejected, since a
 * proxy that forwards such a message lets the client smuggle a second request past it.
 *
 * Heads are handled as latin1 strings so that every byte maps to one code unit and back unchanged.
 * Only the fields a caller names are materialised; the others are validated and left in place, to
 * be forwarded as runs of the original text. That keeps the per-message allocation small, which is
 * most of what a proxy in JavaScript can save.
 */

/** The largest head (start line and fields) accepted from either side. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** A field whose name the caller asked for. Positions index the head text. */
export interface HeaderField {
  /** The lower-case name, as given to `FieldNames`. */
  readonly name: string;
  /** The value without surrounding whitespace. */
  readonly value: string;
  /** Where its line starts, and where it ends (before its CRLF). */
  readonly start: number;
  readonly end: number;
}

// tchar (RFC 9110 §5.6.2), indexed by code unit.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TCHAR[c.charCodeAt(0)] = 1;

export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** Recognises a fixed set of field names, case-insensitively, without slicing the text. */
export class FieldNames {
  private readonly byLength = new Map<number, readonly string[]>();

  /** `names`: lower case, letters, digits and `-` only. */
  constructor(names: readonly string[]) {
    for (const name of names)
      this.byLength.set(name.length, [...(this.byLength.get(name.length) ?? []), name]);
  }

  /** The name at `text[start, end)` if it is one of ours, else null. The text must be a token. */
  match(text: string, start: number, end: number): string | null {
    const candidates = this.byLength.get(end - start);
    if (candidates === undefined) return null;
    for (const name of candidates) if (sameName(text, start, name)) return name;
    return null;
  }
}

/**
 * Compares a token in `text` with a lower-case name. OR-ing 0x20 lower-cases letters; on the other
 * token characters it can only map `^` to `~` and `_` to DEL, neither of which a name here holds.
 */
function sameName(text: string, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++)
    if ((text.charCodeAt(start + i) | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Index just past the blank line ending a head that starts at `from`, or -1 if it is incomplete. */
export function headEnd(buffer: Buffer, from: number): number {
  const at = buffer.indexOf(CRLFCRLF, from);
  return at === -1 ? -1 : at + 4;
}

/**
 * Checks every field line of `head` (a head without its final blank line) from `start`, and
 * returns the fields `names` knows, in order; null when any line is malformed.
 */
export function scanFields(head: string, start: number, names: FieldNames): HeaderField[] | null {
  const fields: HeaderField[] = [];
  const length = head.length;
  let at = start;
  while (at < length) {
    const lineStart = at;
    let code = head.charCodeAt(at);
    while (at < length && isTokenChar((code = head.charCodeAt(at)))) at++;
    // A name must be a non-empty token right before the colon: this also rejects obs-fold (a line
    // starting with SP/HTAB) and `name :`.
    if (at === lineStart || code !== 0x3a) return null;
    const name = names.match(head, lineStart, at);
    at++;
    while (at < length && isOws(head.charCodeAt(at))) at++;
    const valueStart = at;
    let valueEnd = at;
    for (; at < length; at++) {
      code = head.charCodeAt(at);
      if (code === 0x0d) break;
      // Field values: HTAB, SP, visible ASCII and obs-text; no NUL, LF or other controls.
      if ((code < 0x20 && code !== 0x09) || code === 0x7f) return null;
      if (code !== 0x20 && code !== 0x09) valueEnd = at + 1;
    }
    const lineEnd = at;
    if (at < length) {
      if (head.charCodeAt(at + 1) !== 0x0a) return null; // a bare CR
      at += 2;
    }
    if (name !== null)
      fields.push({ name, value: head.slice(valueStart, valueEnd), start: lineStart, end: lineEnd });
  }
  return fields;
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Where the fields named (lower case) in `wanted` are: for dropping the fields a Connection header
 * lists, which can be any name at all. Rare, so this one may slice.
 */
export function fieldsNamed(head: string, start: number, wanted: readonly string[]): HeaderField[] {
  const found: HeaderField[] = [];
  let at = start;
  while (at < head.length) {
    let end = head.indexOf('\r\n', at);
    if (end === -1) end = head.length;
    const colon = head.indexOf(':', at);
    const name = head.slice(at, colon).toLowerCase();
    if (wanted.includes(name)) found.push({ name, value: head.slice(colon + 1, end).trim(), start: at, end });
    at = end + 2;
  }
  return found;
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

// A peer sends the same Connection value on every message: the last list is reused.
let lastList = '';
let lastTokens: readonly string[] = [];

/** The lower-cased elements of a comma-separated list field (Connection, Transfer-Encoding). */
export function listTokens(value: string): readonly string[] {
  if (value === lastList) return lastTokens;
  const tokens: string[] = [];
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token.length > 0) tokens.push(token);
  }
  lastList = value;
  lastTokens = tokens;
  return tokens;
}

/**
 * Folds one Content-Length field into the length read so far (`null` before the first). A field
 * may be a list; every value must be the same decimal number (RFC 9110 §8.6), anything else is a
 * framing conflict: NaN.
 */
export function foldContentLength(sofar: number | null, value: string): number {
  let length = sofar;
  for (const part of value.includes(',') ? value.split(',') : [value]) {
    const n = decimal(part.trim());
    if (Number.isNaN(n) || (length !== null && n !== length)) return Number.NaN;
    length = n;
  }
  return length ?? Number.NaN;
}

/** Digits only, at most 15 (exact in a double): no sign, no spaces, no hex. */
function decimal(text: string): number {
  if (text.length === 0 || text.length > 15) return Number.NaN;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return Number.NaN;
    n = n * 10 + digit;
  }
  return n;
}

/** How the framing of a body is read from the Transfer-Encoding list. */
export type CodingsVerdict = 'absent' | 'chunked' | 'not-chunked' | 'invalid';

/** Transfer codings (the combined field value): chunked must come last and only once (RFC 9112 §6.1). */
export function transferCodings(value: string | undefined): CodingsVerdict {
  if (value === undefined) return 'absent';
  const codings = listTokens(value);
  if (codings.length === 0) return 'invalid';
  const chunked = codings.indexOf('chunked');
  if (chunked === -1) return 'not-chunked';
  return chunked === codings.length - 1 ? 'chunked' : 'invalid';
}

/**
 * `head` from `start` without the fields in `dropped` (in head order): the runs between them,
 * sliced, each line still ending in CRLF.
 */
export function withoutFields(head: string, start: number, dropped: readonly HeaderField[]): string {
  let out = '';
  let from = start;
  for (const field of dropped) {
    if (field.start > from) out += head.slice(from, field.start);
    from = field.end + 2;
  }
  if (from < head.length) out += `${head.slice(from)}\r\n`;
  return out;
}
