import type { BodyFraming } from './body.js';
import { NO_BODY } from './body.js';
import type { HeaderField } from './fields.js';
import { contentLength, fieldValue, listTokens, parseFields, transferCodings } from './fields.js';

export interface ResponseHead {
  readonly status: number;
  /** The status line from the status code on (`200 OK`), forwarded as received. */
  readonly statusText: string;
  readonly fields: readonly HeaderField[];
  readonly framing: BodyFraming;
  /** The Content-Length to forward (also meaningful without a body, e.g. answering HEAD). */
  readonly contentLength: number | null;
  /** The upstream keeps the connection open for another request. */
  readonly keepAlive: boolean;
  /** `Keep-Alive: timeout=N` from the upstream, in ms: how long it keeps an idle connection. */
  readonly idleTimeoutMs: number | null;
  /** Lower-cased Connection options, dropped when forwarding. */
  readonly connection: readonly string[];
}

export type ResponseHeadResult =
  | { readonly ok: true; readonly head: ResponseHead }
  | { readonly ok: false; readonly message: string };

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;

/**
 * Parses a response head (`text` as latin1, without the final blank line); the request's method
 * decides whether a body follows (RFC 9112 §6.3: none after HEAD, 1xx, 204 or 304).
 */
export function parseResponseHead(text: string, requestMethod: string): ResponseHeadResult {
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd === -1) lineEnd = text.length;
  const statusLine = text.slice(0, lineEnd);
  const match = STATUS_LINE.exec(statusLine);
  if (match === null) return { ok: false, message: 'malformed status line' };
  const minor = Number(match[1]);
  const status = Number(match[2]);
  const fields = lineEnd === text.length ? [] : parseFields(text, lineEnd + 2);
  if (fields === null) return { ok: false, message: 'malformed header field' };

  const length = contentLength(fields);
  const codings = transferCodings(fields);
  if (Number.isNaN(length)) return { ok: false, message: 'invalid Content-Length' };
  if (codings === 'invalid') return { ok: false, message: 'invalid Transfer-Encoding' };
  // Both at once would let the upstream desynchronise the connection: refuse rather than guess.
  if (codings !== 'absent' && length !== null)
    return { ok: false, message: 'both Content-Length and Transfer-Encoding' };

  let framing: BodyFraming;
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) framing = NO_BODY;
  else if (codings === 'chunked') framing = { kind: 'chunked' };
  else if (codings === 'not-chunked') framing = { kind: 'close' };
  else if (length !== null) framing = length === 0 ? NO_BODY : { kind: 'length', length };
  else framing = { kind: 'close' };

  const connection = listTokens(fieldValue(fields, 'connection') ?? '');
  const keepAlive =
    framing.kind !== 'close' &&
    !connection.includes('close') &&
    (minor === 1 || connection.includes('keep-alive'));
  return {
    ok: true,
    head: {
      status,
      statusText: statusLine.slice(9),
      fields,
      framing,
      contentLength: length,
      keepAlive,
      idleTimeoutMs: keepAliveTimeout(fields),
      connection,
    },
  };
}

function keepAliveTimeout(fields: readonly HeaderField[]): number | null {
  const value = fieldValue(fields, 'keep-alive');
  if (value === undefined) return null;
  const match = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(value);
  return match === null ? null : Number(match[1]) * 1000;
}
