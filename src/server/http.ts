import type { IncomingMessage, ServerResponse } from 'node:http';

/** Request bodies beyond this are refused before they are buffered whole. */
export const MAX_BODY_BYTES = 64 * 1024;

/** An expected refusal: its status and a stable code go to the client as `{ error, code }`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * On every API answer: a browser takes the body as the declared type and never sniffs it into
 * something it would run or render (a JSON error quoting markup is not a page).
 */
export const NOSNIFF = { 'x-content-type-options': 'nosniff' } as const;

export function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
    ...NOSNIFF,
  });
  res.end(text);
}

export function replyText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...NOSNIFF,
  });
  res.end(text);
}

/** The body as text, refused with 413 as soon as it passes the cap (declared or streamed). */
export async function readBody(req: IncomingMessage, max = MAX_BODY_BYTES): Promise<string> {
  const tooLarge = (): HttpError =>
    new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${max / 1024} KB`);
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > max) throw tooLarge();
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, 'BAD_REQUEST', `request body must be JSON: ${(error as Error).message}`);
  }
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  return parseJson(await readBody(req));
}

/** The token of an `Authorization: Bearer …` header, undefined when there is none. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? '';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
