import { ChunkedTracker } from './chunked.js';

/** How a message body is delimited (RFC 9112 §6.3). `close`: until the sender closes (responses only). */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

export const NO_BODY: BodyFraming = { kind: 'none' };

/** Follows a body as its bytes go by, to find where it ends; never alters them. */
export interface BodyTracker {
  /** How many bytes of `chunk` from `offset` belong to the body. */
  consume(chunk: Buffer, offset: number): number;
  /** The whole body went by; a close-delimited body is never done before its connection ends. */
  readonly done: boolean;
  /** Set when the body is malformed; the message cannot be delimited any more. */
  readonly error: string | null;
}

class EmptyBody implements BodyTracker {
  readonly done = true;
  readonly error = null;
  consume(): number {
    return 0;
  }
}

class LengthBody implements BodyTracker {
  readonly error = null;
  private remaining: number;
  constructor(length: number) {
    this.remaining = length;
  }
  get done(): boolean {
    return this.remaining === 0;
  }
  consume(chunk: Buffer, offset: number): number {
    const take = Math.min(this.remaining, chunk.length - offset);
    this.remaining -= take;
    return take;
  }
}

class UntilClose implements BodyTracker {
  readonly done = false;
  readonly error = null;
  consume(chunk: Buffer, offset: number): number {
    return chunk.length - offset;
  }
}

/** Shared: an empty body has no state. */
const EMPTY = new EmptyBody();

export function trackBody(framing: BodyFraming): BodyTracker {
  switch (framing.kind) {
    case 'none':
      return EMPTY;
    case 'length':
      return framing.length === 0 ? EMPTY : new LengthBody(framing.length);
    case 'chunked':
      return new ChunkedTracker();
    case 'close':
      return new UntilClose();
  }
}
