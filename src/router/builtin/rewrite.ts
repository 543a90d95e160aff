/**
 * The few changes the router makes to the heads it forwards; everything else goes through as
 * received, line for line.
 */
import { STATUS_CODES } from 'node:http';
import type { RequestHead } from './wire/request-head.js';
import type { ResponseHead } from './wire/response-head.js';
import type { HeaderField } from './wire/fields.js';
import { KEY_HEADER } from './request-key.js';

export const REVISION_HEADER = 'x-augur-revision';

/** How long a client connection may stay idle between requests; announced in `Keep-Alive`. */
export const CLIENT_IDLE_MS = 65_000;

// Hop-by-hop fields (RFC 9110 §7.6.1) plus those the router sets itself. Content-Length is
// written back once, so that duplicates the parser accepted (all equal) reach the peer as one.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer'];
const REQUEST_REPLACED = new Set([...HOP_BY_HOP, 'content-length', KEY_HEADER, 'x-forwarded-for']);
const RESPONSE_REPLACED = new Set([...HOP_BY_HOP, 'content-length', REVISION_HEADER]);

function keptLines(fields: readonly HeaderField[], replaced: Set<string>, connection: readonly string[]): string {
  let out = '';
  for (const field of fields) {
    if (!replaced.has(field.name) && !connection.includes(field.name)) out += `${field.line}\r\n`;
  }
  return out;
}

/**
 * The request as sent upstream. An HTTP/1.0 request stays HTTP/1.0, so that the upstream answers
 * in a framing the client can read (never chunked), but asks to keep the pooled connection open.
 */
export function upstreamRequestHead(head: RequestHead, key: string, forwardedFor: string): string {
  let out = `${head.method} ${head.target} HTTP/1.${head.minor}\r\n`;
  out += keptLines(head.fields, REQUEST_REPLACED, head.connection);
  if (head.contentLength !== null) out += `content-length: ${head.contentLength}\r\n`;
  if (head.minor === 0) out += 'connection: keep-alive\r\n';
  return `${out}${KEY_HEADER}: ${key}\r\nx-forwarded-for: ${forwardedFor}\r\n\r\n`;
}

export interface ClientResponseOptions {
  readonly revision: string;
  /** A Set-Cookie line value for a key minted for this client, or null. */
  readonly cookie: string | null;
  /** The client connection closes after this response. */
  readonly close: boolean;
  /** The client spoke HTTP/1.0: persistence must be announced. */
  readonly http10: boolean;
}

export function clientResponseHead(head: ResponseHead, options: ClientResponseOptions): string {
  let out = `HTTP/1.1 ${head.statusText}\r\n`;
  out += keptLines(head.fields, RESPONSE_REPLACED, head.connection);
  if (head.contentLength !== null && head.framing.kind !== 'chunked')
    out += `content-length: ${head.contentLength}\r\n`;
  out += `${REVISION_HEADER}: ${options.revision}\r\n`;
  if (options.cookie !== null) out += `set-cookie: ${options.cookie}\r\n`;
  return `${out}${persistence(options.close, options.http10)}\r\n`;
}

/** A 1xx interim response (100 Continue, 103 Early Hints) relayed to an HTTP/1.1 client. */
export function interimHead(head: ResponseHead): string {
  return `HTTP/1.1 ${head.statusText}\r\n${keptLines(head.fields, RESPONSE_REPLACED, head.connection)}\r\n`;
}

function persistence(close: boolean, http10: boolean): string {
  if (close) return 'connection: close\r\n';
  const hint = `keep-alive: timeout=${CLIENT_IDLE_MS / 1000}\r\n`;
  return http10 ? `connection: keep-alive\r\n${hint}` : hint;
}

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
