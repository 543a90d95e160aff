import type { BodyFraming } from './body.js';
import { NO_BODY } from './body.js';
import type { HeaderField } from './fields.js';
import {
  FieldNames,
  foldContentLength,
  isTokenChar,
  listTokens,
  scanFields,
  transferCodings,
} from './fields.js';

export interface RequestHead {
  /** The head as latin1, without its final blank line. */
  readonly text: string;
  readonly method: string;
  /** HTTP/1.minor: 1 or 0. */
  readonly minor: number;
  /** Where the field lines start in `text`. */
  readonly fieldsStart: number;
  /** The fields the parser was asked to pick out, in order. */
  readonly fields: readonly HeaderField[];
  readonly framing: BodyFraming;
  /** The Content-Length received: absent with chunked framing. */
  readonly contentLength: number | null;
  /** The client allows another request on the connection after this one. */
  readonly keepAlive: boolean;
  /** Lower-cased Connection options. */
  readonly connection: readonly string[];
  readonly upgrade: boolean;
}

export type RequestHeadResult =
  | { readonly ok: true; readonly head: RequestHead }
  | { readonly ok: false; readonly status: 400 | 505; readonly message: string };

/** The fields that decide a request's framing and persistence: always picked out. */
const FRAMING_FIELDS = ['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade'];

/** The names a request parser picks out: the framing ones and `extra`. */
export function requestFieldNames(extra: readonly string[]): FieldNames {
  return new FieldNames([...new Set([...FRAMING_FIELDS, ...extra])]);
}

const bad = (message: string): RequestHeadResult => ({ ok: false, status: 400, message });

/**
 * Parses a request head: `text` is its bytes as latin1, without the final blank line; `names`
 * (from `requestFieldNames`) says which fields to pick out.
 */
export function parseRequestHead(text: string, names: FieldNames): RequestHeadResult {
  // Request line: method SP request-target SP HTTP-version.
  let at = 0;
  while (at < text.length && isTokenChar(text.charCodeAt(at))) at++;
  if (at === 0 || text.charCodeAt(at) !== 0x20) return bad('malformed request line');
  const method = text.slice(0, at);
  const targetStart = ++at;
  // Targets: visible ASCII and obs-text; no spaces or controls.
  for (let code = text.charCodeAt(at); at < text.length; code = text.charCodeAt(++at)) {
    if (code <= 0x20 || code === 0x7f) break;
  }
  if (at === targetStart || text.charCodeAt(at) !== 0x20) return bad('malformed request line');
  const version = ++at;
  const lineEnd = version + 8;
  if (lineEnd !== text.length && (text.charCodeAt(lineEnd) !== 0x0d || text.charCodeAt(lineEnd + 1) !== 0x0a))
    return bad('malformed request line');
  let minor: number;
  if (text.startsWith('HTTP/1.1', version)) minor = 1;
  else if (text.startsWith('HTTP/1.0', version)) minor = 0;
  else if (/^HTTP\/\d\.\d$/.test(text.slice(version, lineEnd)))
    return { ok: false, status: 505, message: 'HTTP version not supported' };
  else return bad('malformed request line');

  const fieldsStart = lineEnd + 2;
  const fields = scanFields(text, fieldsStart, names);
  if (fields === null) return bad('malformed header field');

  let hosts = 0;
  let length: number | null = null;
  let codingsValue: string | undefined;
  let connectionValue: string | undefined;
  let upgrade = false;
  for (const field of fields) {
    switch (field.name) {
      case 'host':
        hosts++;
        break;
      case 'content-length':
        length = foldContentLength(length, field.value);
        break;
      case 'transfer-encoding':
        codingsValue = codingsValue === undefined ? field.value : `${codingsValue}, ${field.value}`;
        break;
      case 'connection':
        connectionValue = connectionValue === undefined ? field.value : `${connectionValue}, ${field.value}`;
        break;
      case 'upgrade':
        upgrade = true;
        break;
    }
  }
  if (hosts > 1 || (minor === 1 && hosts === 0)) return bad('exactly one Host field is required');

  // Framing (RFC 9112 §6.3): a request carrying both Content-Length and Transfer-Encoding, or
  // Content-Lengths that disagree, is how requests are smuggled past a proxy: refuse them.
  if (Number.isNaN(length)) return bad('invalid Content-Length');
  const codings = transferCodings(codingsValue);
  let framing: BodyFraming = NO_BODY;
  if (codings !== 'absent') {
    if (length !== null) return bad('both Content-Length and Transfer-Encoding');
    if (minor === 0) return bad('Transfer-Encoding in an HTTP/1.0 request');
    if (codings !== 'chunked') return bad('the final transfer coding must be chunked');
    framing = CHUNKED;
  } else if (length !== null && length > 0) {
    framing = { kind: 'length', length };
  }

  const connection = connectionValue === undefined ? NONE : listTokens(connectionValue);
  const keepAlive =
    minor === 1
      ? !connection.includes('close')
      : connection.includes('keep-alive') && !connection.includes('close');
  return {
    ok: true,
    head: {
      text,
      method,
      minor,
      fieldsStart,
      fields,
      framing,
      contentLength: length,
      keepAlive,
      connection,
      upgrade,
    },
  };
}

const CHUNKED: BodyFraming = { kind: 'chunked' };
const NONE: readonly string[] = [];
