/**
 * The few changes the router makes to the heads it forwards; everything else goes through as
 * received: the runs of lines between the fields it drops are sliced from the original text.
 */
import { STATUS_CODES } from 'node:http';
import { KEY_HEADER } from './request-key.js';
import type { FieldNames, HeaderField } from './wire/fields.js';
import { fieldsNamed, withoutFields } from './wire/fields.js';
import type { RequestHead } from './wire/request-head.js';
import { requestFieldNames } from './wire/request-head.js';
import type { ResponseHead } from './wire/response-head.js';
import { responseFieldNames } from './wire/response-head.js';

export const REVISION_HEADER = 'x-augur-revision';

/** How long a client connection may stay idle between requests; announced in `Keep-Alive`. */
export const CLIENT_IDLE_MS = 65_000;

// Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, not the message.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);
// A Connection header may name more fields to drop, but never these: dropping framing fields
// would let a client (or upstream) make the next hop read the body as another message.
const NEVER_DROPPED = new Set([
  'close',
  'content-length',
  'transfer-encoding',
  'host',
  KEY_HEADER,
  REVISION_HEADER,
]);

/** The request fields the router reads or changes. */
export const REQUEST_FIELDS: FieldNames = requestFieldNames([
  ...HOP_BY_HOP,
  KEY_HEADER,
  'cookie',
  'x-forwarded-for',
]);
/** The response fields the router changes. */
export const RESPONSE_FIELDS: FieldNames = responseFieldNames([...HOP_BY_HOP, REVISION_HEADER]);

const NONE: HeaderField[] = [];

/** The fields a Connection header lists beyond the hop-by-hop ones the router drops anyway. */
function listedFields(text: string, fieldsStart: number, connection: readonly string[]): HeaderField[] {
  // Almost always `keep-alive` or `close` alone: decided without allocating.
  let extra = false;
  for (const name of connection) if (!HOP_BY_HOP.has(name) && !NEVER_DROPPED.has(name)) extra = true;
  if (!extra) return NONE;
  const names = connection.filter((name) => !HOP_BY_HOP.has(name) && !NEVER_DROPPED.has(name));
  return fieldsNamed(text, fieldsStart, names);
}

function inOrder(dropped: HeaderField[], listed: HeaderField[]): HeaderField[] {
  return listed.length === 0 ? dropped : [...dropped, ...listed].sort((a, b) => a.start - b.start);
}

/**
 * The request as sent upstream: hop-by-hop fields dropped, the key set, the client's address
 * appended to X-Forwarded-For, several equal Content-Lengths made one. An HTTP/1.0 request stays
 * HTTP/1.0, so that the upstream answers in a framing the client can read (never chunked), but asks
 * to keep the pooled connection open.
 */
export function upstreamRequestHead(head: RequestHead, key: string, remote: string): string {
  let keys = 0;
  let keyValue = '';
  let lengths = 0;
  let prior: string | undefined;
  for (const field of head.fields) {
    if (field.name === KEY_HEADER) {
      keys++;
      keyValue = field.value;
    } else if (field.name === 'content-length') lengths++;
    else if (field.name === 'x-forwarded-for')
      prior = prior === undefined ? field.value : `${prior}, ${field.value}`;
  }
  // The common case, one key field carrying the key in use, is forwarded as it came.
  const keepKey = keys === 1 && keyValue === key;
  const dropped: HeaderField[] = [];
  for (const field of head.fields) {
    const name = field.name;
    if (
      HOP_BY_HOP.has(name) ||
      name === 'x-forwarded-for' ||
      (name === KEY_HEADER && !keepKey) ||
      (name === 'content-length' && lengths > 1)
    )
      dropped.push(field);
  }
  const listed = listedFields(head.text, head.fieldsStart, head.connection);
  let out = withoutFields(head.text, 0, inOrder(dropped, listed));
  if (lengths > 1) out += `content-length: ${head.contentLength}\r\n`;
  if (!keepKey) out += `${KEY_HEADER}: ${key}\r\n`;
  if (head.minor === 0) out += 'connection: keep-alive\r\n';
  const forwardedFor = prior !== undefined && prior.length > 0 ? `${prior}, ${remote}` : remote;
  return `${out}x-forwarded-for: ${forwardedFor}\r\n\r\n`;
}

/** The response's status line and fields as forwarded, without the final blank line's CRLF. */
function forwardedFields(head: ResponseHead): string {
  let lengths = 0;
  for (const field of head.fields) if (field.name === 'content-length') lengths++;
  const dropped: HeaderField[] = [];
  for (const field of head.fields) {
    const name = field.name;
    if (HOP_BY_HOP.has(name) || name === REVISION_HEADER || (name === 'content-length' && lengths > 1))
      dropped.push(field);
  }
  const all = inOrder(dropped, listedFields(head.text, head.fieldsStart, head.connection));
  // The router speaks HTTP/1.1 to its clients whatever the upstream spoke.
  let out =
    head.minor === 1 ? withoutFields(head.text, 0, all) : `HTTP/1.1${withoutFields(head.text, 8, all)}`;
  if (lengths > 1) out += `content-length: ${head.contentLength}\r\n`;
  return out;
}

export interface ClientResponseOptions {
  readonly revision: string;
  /** A Set-Cookie value for a key minted for this client, or null. */
  readonly cookie: string | null;
  /** The client connection closes after this response. */
  readonly close: boolean;
  /** The client spoke HTTP/1.0: persistence must be announced. */
  readonly http10: boolean;
}

export function clientResponseHead(head: ResponseHead, options: ClientResponseOptions): string {
  let out = `${forwardedFields(head)}${REVISION_HEADER}: ${options.revision}\r\n`;
  if (options.cookie !== null) out += `set-cookie: ${options.cookie}\r\n`;
  return `${out}${persistence(options.close, options.http10)}\r\n`;
}

/** A 1xx interim response (100 Continue, 103 Early Hints) relayed to an HTTP/1.1 client. */
export function interimHead(head: ResponseHead): string {
  return `${forwardedFields(head)}\r\n`;
}

function persistence(close: boolean, http10: boolean): string {
  if (close) return 'connection: close\r\n';
  return http10 ? KEEP_ALIVE_10 : KEEP_ALIVE_11;
}

const KEEP_ALIVE_11 = `keep-alive: timeout=${CLIENT_IDLE_MS / 1000}\r\n`;
const KEEP_ALIVE_10 = `connection: keep-alive\r\n${KEEP_ALIVE_11}`;

export interface RouterResponseOptions {
  readonly revision: string | null;
  readonly close: boolean;
  readonly http10: boolean;
  /** Answering HEAD: the same head, no body. */
  readonly headOnly: boolean;
}

/** A response the router writes itself: an error it found, or the upstream's failure. */
export function routerResponse(status: number, message: string, options: RouterResponseOptions): string {
  const body = `${message}\n`;
  let out = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain\r\n`;
  out += `content-length: ${Buffer.byteLength(body, 'latin1')}\r\n`;
  if (options.revision !== null) out += `${REVISION_HEADER}: ${options.revision}\r\n`;
  out += `${persistence(options.close, options.http10)}\r\n`;
  return options.headOnly ? out : out + body;
}
