import type { BodyFraming } from './body.js';
import { NO_BODY } from './body.js';
import type { HeaderField } from './fields.js';
import { contentLength, fieldValue, isToken, listTokens, parseFields, transferCodings } from './fields.js';

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** HTTP/1.minor: 1 or 0. */
  readonly minor: number;
  readonly fields: readonly HeaderField[];
  readonly framing: BodyFraming;
  /** The Content-Length to forward: absent with chunked framing. */
  readonly contentLength: number | null;
  /** The client allows another request on the connection after this one. */
  readonly keepAlive: boolean;
  /** Lower-cased Connection options, dropped when forwarding (RFC 9110 §7.6.1). */
  readonly connection: readonly string[];
  readonly upgrade: boolean;
}

export type RequestHeadResult =
  | { readonly ok: true; readonly head: RequestHead }
  | { readonly ok: false; readonly status: 400 | 505; readonly message: string };

// Request targets: visible ASCII and obs-text; no spaces or controls.
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;

const bad = (message: string): RequestHeadResult => ({ ok: false, status: 400, message });

/** Parses a request head: `text` is its bytes as latin1, without the final blank line. */
export function parseRequestHead(text: string): RequestHeadResult {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  const first = text.indexOf(' ');
  const second = first === -1 ? -1 : text.indexOf(' ', first + 1);
  if (second === -1 || second > lineEnd) return bad('malformed request line');
  const method = text.slice(0, first);
  const target = text.slice(first + 1, second);
  const version = text.slice(second + 1, lineEnd);
  if (!isToken(method) || !TARGET.test(target)) return bad('malformed request line');
  if (!/^HTTP\/\d\.\d$/.test(version)) return bad('malformed request line');
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0')
    return { ok: false, status: 505, message: 'HTTP version not supported' };
  const minor = version === 'HTTP/1.1' ? 1 : 0;

  const fields = lineEnd === text.length ? [] : parseFields(text, lineEnd + 2);
  if (fields === null) return bad('malformed header field');

  let hosts = 0;
  for (const field of fields) if (field.name === 'host') hosts++;
  if (hosts > 1 || (minor === 1 && hosts === 0)) return bad('exactly one Host field is required');

  // Framing (RFC 9112 §6.3): a request carrying both Content-Length and Transfer-Encoding, or
  // Content-Lengths that disagree, is how requests are smuggled past a proxy: refuse them.
  const length = contentLength(fields);
  const codings = transferCodings(fields);
  if (Number.isNaN(length)) return bad('invalid Content-Length');
  let framing: BodyFraming = NO_BODY;
  if (codings !== 'absent') {
    if (length !== null) return bad('both Content-Length and Transfer-Encoding');
    if (minor === 0) return bad('Transfer-Encoding in an HTTP/1.0 request');
    if (codings !== 'chunked') return bad('the final transfer coding must be chunked');
    framing = { kind: 'chunked' };
  } else if (length !== null && length > 0) {
    framing = { kind: 'length', length };
  }

  const connection = listTokens(fieldValue(fields, 'connection') ?? '');
  const keepAlive =
    minor === 1 ? !connection.includes('close') : connection.includes('keep-alive') && !connection.includes('close');
  const upgrade = fieldValue(fields, 'upgrade') !== undefined;
  return {
    ok: true,
    head: { method, target, minor, fields, framing, contentLength: length, keepAlive, connection, upgrade },
  };
}
