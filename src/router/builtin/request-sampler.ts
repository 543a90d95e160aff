/**
 * A bounded, uniform sample of the requests a service receives, for the sandbox to replay. On the
 * hot path a request costs one increment and one comparison: reservoir sampling with geometric
 * skips (Li's Algorithm L) decides in advance which request is the next to keep, and only that one
 * is read. What is kept holds no value of a field named like a credential (credentials.ts): headers
 * come from an allow-list and never include one; such query parameters and form or JSON body fields
 * are kept with their values replaced; any other body that names one is not kept at all. A secret
 * under an innocent name, or in a field's value, cannot be told from data and is kept.
 */
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { Random } from '../../core/random.js';
import { systemRandom } from '../../core/random.js';
import { isCredentialName, redactBody, redactQuery } from './credentials.js';
import type { RequestHead } from './wire/request-head.js';

/** One recorded request; the same shape as the store's `RequestSample`. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as received, values of credential-like query parameters redacted. */
  readonly path: string;
  /** Allow-listed headers only (lower-case names); repeated fields combined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The body when it had a Content-Length ≤ `maxBodyBytes` and arrived with the head (credential-
   * like form or JSON fields redacted); else null.
   */
  readonly body: Uint8Array | null;
  readonly recordedAt: number;
}

export interface SamplingOptions {
  /** Requests kept per service between two `take()`s. Default 500. */
  readonly size?: number;
  /** Header names (lower case) that may be kept. Default DEFAULT_SAMPLED_HEADERS. */
  readonly headers?: readonly string[];
  /** Larger bodies, and chunked ones, are not recorded (nor is their request). Default 4096. */
  readonly maxBodyBytes?: number;
  readonly random?: Random;
  readonly clock?: Clock;
}

export const DEFAULT_SAMPLE_SIZE = 500;
export const DEFAULT_SAMPLED_HEADERS: readonly string[] = [
  'accept',
  'accept-encoding',
  'accept-language',
  'content-type',
];
export const DEFAULT_MAX_SAMPLED_BODY = 4096;

export class RequestSampler {
  private readonly size: number;
  private readonly allowed: ReadonlySet<string>;
  private readonly maxBodyBytes: number;
  private readonly random: Random;
  private readonly clock: Clock;
  private kept: RecordedRequest[] = [];
  /** Requests offered since the last `take()`. */
  private seen = 0;
  /** The count of `seen` at which the next request is kept (0 while the reservoir fills). */
  private next = 0;
  private w = 0;

  constructor(options: SamplingOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? DEFAULT_SAMPLE_SIZE));
    this.allowed = new Set(
      (options.headers ?? DEFAULT_SAMPLED_HEADERS)
        .map((h) => h.toLowerCase())
        .filter((h) => !isCredentialName(h)),
    );
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_SAMPLED_BODY;
    this.random = options.random ?? systemRandom;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * A request arrived: `buffer[bodyStart, bodyStart + bodyBytes)` is the part of its body that came
   * with its head. The hot path: almost always returns at once.
   */
  offer(head: RequestHead, buffer: Buffer, bodyStart: number, bodyBytes: number): void {
    if (++this.seen < this.next) return;
    this.select(head, buffer, bodyStart, bodyBytes);
  }

  /** The sample so far; the sampler starts afresh. */
  take(): RecordedRequest[] {
    const out = this.kept;
    this.kept = [];
    this.seen = 0;
    this.next = 0;
    return out;
  }

  /** The sample so far, left in place. */
  peek(): readonly RecordedRequest[] {
    return this.kept;
  }

  private select(head: RequestHead, buffer: Buffer, bodyStart: number, bodyBytes: number): void {
    const filling = this.kept.length < this.size;
    const record = this.capture(head, buffer, bodyStart, bodyBytes);
    if (filling) {
      if (record === null) return;
      this.kept.push(record);
      if (this.kept.length === this.size) {
        this.w = Math.exp(Math.log(this.uniform()) / this.size);
        this.skip();
      }
      return;
    }
    if (record !== null) this.kept[Math.floor(this.random.next() * this.size)] = record;
    this.w *= Math.exp(Math.log(this.uniform()) / this.size);
    this.skip();
  }

  /** Algorithm L: the number of requests passed over before the next one kept is geometric. */
  private skip(): void {
    const gap = Math.floor(Math.log(this.uniform()) / Math.log(1 - this.w));
    this.next = this.seen + (Number.isFinite(gap) ? gap : 0) + 1;
  }

  /** In (0, 1]: never 0, whose logarithm is −∞. */
  private uniform(): number {
    return 1 - this.random.next();
  }

  private capture(
    head: RequestHead,
    buffer: Buffer,
    bodyStart: number,
    bodyBytes: number,
  ): RecordedRequest | null {
    let body: Uint8Array | null = null;
    const text = head.text;
    const framing = head.framing;
    if (framing.kind === 'length') {
      // Bodies are streamed: only one that came whole with its head is at hand.
      if (framing.length > this.maxBodyBytes || bodyBytes < framing.length) return null;
      const whole = new Uint8Array(buffer.subarray(bodyStart, bodyStart + framing.length));
      body = redactBody(whole, fieldValue(text, head.fieldsStart, 'content-type'));
      // A body that may hold a credential and cannot be redacted: the request is not kept.
      if (body === null) return null;
    } else if (framing.kind !== 'none') {
      return null;
    }
    const targetStart = head.method.length + 1;
    const target = text.slice(targetStart, text.indexOf(' ', targetStart));
    return {
      method: head.method,
      path: redactQuery(target),
      headers: this.headersOf(text, head.fieldsStart),
      body,
      recordedAt: this.clock.now(),
    };
  }

  private headersOf(text: string, start: number): Record<string, string> {
    const headers: Record<string, string> = {};
    let at = start;
    while (at < text.length) {
      let end = text.indexOf('\r\n', at);
      if (end === -1) end = text.length;
      const colon = text.indexOf(':', at);
      if (colon !== -1 && colon < end) {
        const name = text.slice(at, colon).toLowerCase();
        if (this.allowed.has(name)) {
          const value = text.slice(colon + 1, end).trim();
          const held = headers[name];
          headers[name] = held === undefined ? value : `${held}, ${value}`;
        }
      }
      at = end + 2;
    }
    return headers;
  }
}

/** The value of a header field (the first, if repeated), whatever the allow-list says. */
function fieldValue(text: string, start: number, name: string): string | undefined {
  let at = start;
  while (at < text.length) {
    let end = text.indexOf('\r\n', at);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', at);
    if (colon !== -1 && colon < end && text.slice(at, colon).toLowerCase() === name) {
      return text.slice(colon + 1, end).trim();
    }
    at = end + 2;
  }
  return undefined;
}
