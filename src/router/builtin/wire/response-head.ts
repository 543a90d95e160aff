import type { BodyFraming } from './body.js';
import { NO_BODY } from './body.js';
import type { HeaderField } from './fields.js';
import { FieldNames, foldContentLength, listTokens, scanFields, transferCodings } from './fields.js';

export interface ResponseHead {
  /** The head as latin1, without its final blank line. */
  readonly text: string;
  readonly status: number;
  /** HTTP/1.minor of the status line. */
  readonly minor: number;
  /** Where the field lines start in `text`. */
  readonly fieldsStart: number;
  /** The fields the parser was asked to pick out, in order. */
  readonly fields: readonly HeaderField[];
  readonly framing: BodyFraming;
  /** The Content-Length received (also meaningful without a body, e.g. answering HEAD). */
  readonly contentLength: number | null;
  /** The upstream keeps the connection open for another request. */
  readonly keepAlive: boolean;
  /** `Keep-Alive: timeout=N` from the upstream, in ms: how long it keeps an idle connection. */
  readonly idleTimeoutMs: number | null;
  /** Lower-cased Connection options. */
  readonly connection: readonly string[];
}

export type ResponseHeadResult =
  { readonly ok: true; readonly head: ResponseHead } | { readonly ok: false; readonly message: string };

/** The fields that decide a response's framing and persistence: always picked out. */
const FRAMING_FIELDS = ['content-length', 'transfer-encoding', 'connection', 'keep-alive'];

/** The names a response parser picks out: the framing ones and `extra`. */
export function responseFieldNames(extra: readonly string[]): FieldNames {
  return new FieldNames([...new Set([...FRAMING_FIELDS, ...extra])]);
}

/**
 * Parses a response head (`text` as latin1, without the final blank line); the request's method
 * decides whether a body follows (RFC 9112 §6.3: none after HEAD, 1xx, 204 or 304). `names`
 * (from `responseFieldNames`) says which fields to pick out.
 */
export function parseResponseHead(
  text: string,
  requestMethod: string,
  names: FieldNames,
): ResponseHeadResult {
  let lineEnd = text.indexOf('\r');
  if (lineEnd === -1) lineEnd = text.length;
  else if (text.charCodeAt(lineEnd + 1) !== 0x0a) return { ok: false, message: 'malformed status line' };
  const minor = statusLineMinor(text, lineEnd);
  if (minor === -1) return { ok: false, message: 'malformed status line' };
  const status =
    (text.charCodeAt(9) - 0x30) * 100 + (text.charCodeAt(10) - 0x30) * 10 + (text.charCodeAt(11) - 0x30);
  const fieldsStart = lineEnd + 2;
  const fields = scanFields(text, fieldsStart, names);
  if (fields === null) return { ok: false, message: 'malformed header field' };

  let length: number | null = null;
  let codingsValue: string | undefined;
  let connectionValue: string | undefined;
  let keepAliveValue: string | undefined;
  for (const field of fields) {
    switch (field.name) {
      case 'content-length':
        length = foldContentLength(length, field.value);
        break;
      case 'transfer-encoding':
        codingsValue = codingsValue === undefined ? field.value : `${codingsValue}, ${field.value}`;
        break;
      case 'connection':
        connectionValue = connectionValue === undefined ? field.value : `${connectionValue}, ${field.value}`;
        break;
      case 'keep-alive':
        keepAliveValue = field.value;
        break;
    }
  }
  if (Number.isNaN(length)) return { ok: false, message: 'invalid Content-Length' };
  const codings = transferCodings(codingsValue);
  if (codings === 'invalid') return { ok: false, message: 'invalid Transfer-Encoding' };
  // Both at once would let the upstream desynchronise the connection: refuse rather than guess.
  if (codings !== 'absent' && length !== null)
    return { ok: false, message: 'both Content-Length and Transfer-Encoding' };

  let framing: BodyFraming;
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) framing = NO_BODY;
  else if (codings === 'chunked') framing = CHUNKED;
  else if (codings === 'not-chunked') framing = UNTIL_CLOSE;
  else if (length !== null) framing = length === 0 ? NO_BODY : { kind: 'length', length };
  else framing = UNTIL_CLOSE;

  const connection = connectionValue === undefined ? NONE : listTokens(connectionValue);
  const keepAlive =
    framing.kind !== 'close' &&
    !connection.includes('close') &&
    (minor === 1 || connection.includes('keep-alive'));
  return {
    ok: true,
    head: {
      text,
      status,
      minor,
      fieldsStart,
      fields,
      framing,
      contentLength: length,
      keepAlive,
      idleTimeoutMs: keepAliveValue === undefined ? null : keepAliveTimeout(keepAliveValue),
      connection,
    },
  };
}

const CHUNKED: BodyFraming = { kind: 'chunked' };
const UNTIL_CLOSE: BodyFraming = { kind: 'close' };
const NONE: readonly string[] = [];

/** `HTTP/1.x NNN[ reason]`: returns x, or -1 when the line is malformed. */
function statusLineMinor(text: string, lineEnd: number): number {
  if (lineEnd < 12 || !text.startsWith('HTTP/1.', 0)) return -1;
  const minor = text.charCodeAt(7) - 0x30;
  if ((minor !== 0 && minor !== 1) || text.charCodeAt(8) !== 0x20) return -1;
  for (let i = 9; i < 12; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9 || (i === 9 && digit === 0)) return -1;
  }
  if (lineEnd > 12 && text.charCodeAt(12) !== 0x20) return -1;
  // Reason phrase: HTAB, SP, visible ASCII, obs-text.
  for (let i = 13; i < lineEnd; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return -1;
  }
  return minor;
}

// An upstream sends the same Keep-Alive value on every response: parse it once.
let lastKeepAlive = '';
let lastIdleTimeoutMs: number | null = null;

function keepAliveTimeout(value: string): number | null {
  if (value !== lastKeepAlive) {
    const match = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(value);
    lastKeepAlive = value;
    lastIdleTimeoutMs = match === null ? null : Number(match[1]) * 1000;
  }
  return lastIdleTimeoutMs;
}
