/** A minimal Server-Sent Events reader over fetch: what `status -w` and `rollout` (following a release) need. */

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/**
 * The most text one message may hold while it is read (its unfinished line and the data lines
 * before it): a server sending a line that never ends must not take all the memory.
 */
export const MAX_MESSAGE_CHARS = 1 << 20;

/** Thrown when a message grows past MAX_MESSAGE_CHARS: the connection is dropped and made anew. */
export class SseOverflowError extends Error {
  constructor(max: number) {
    super(`the event stream sent a message longer than ${max} characters`);
  }
}

/** Splits an SSE byte stream into events (fields id, event, data and retry; comments ignored). */
export class SseParser {
  private buffer = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];
  private dataChars = 0;
  private readonly max: number;
  /** The reconnection delay the server last asked for (`retry:`), in ms. */
  retry: number | undefined;

  constructor(max = MAX_MESSAGE_CHARS) {
    this.max = max;
  }

  /** Feeds a chunk of text; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\n|\r/);
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
      if (end < 0 || (end === this.buffer.length - 1 && this.buffer.endsWith('\r'))) break;
      const line = this.buffer.slice(0, end);
      const width = this.buffer.startsWith('\r\n', end) ? 2 : 1;
      this.buffer = this.buffer.slice(end + width);
      if (line === '') {
        if (this.data.length > 0)
          out.push({ id: this.id, event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        this.dataChars = 0;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') this.id = value;
      else if (field === 'event') this.event = value;
      else if (field === 'data') {
        this.data.push(value);
        this.dataChars += value.length + 1;
      } else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    }
    if (this.buffer.length + this.dataChars > this.max) throw new SseOverflowError(this.max);
    return out;
  }
}

/**
 * Reads an SSE response body to its end (or until the signal aborts), calling `onEvent` for each;
 * `onRetry` hears the reconnection delay the server asks for.
 */
export async function readSse(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: SseEvent) => boolean | void,
  options: { onRetry?: (ms: number) => void } = {},
): Promise<'ended' | 'stopped'> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'ended';
      const events = parser.push(decoder.decode(value, { stream: true }));
      if (parser.retry !== undefined) options.onRetry?.(parser.retry);
      for (const event of events) {
        // A handler returns true when it has seen enough.
        if (onEvent(event) === true) return 'stopped';
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** No reconnection sooner than this, whatever the server asks (`retry: 0`) or however fast it closes. */
export const RECONNECT_FLOOR_MS = 1_000;
/** Nor later than this, however often it failed or whatever the server asks. */
export const RECONNECT_CEILING_MS = 15_000;
/** A connection that stayed up this long starts the backoff afresh. */
export const RECONNECT_STABLE_MS = 10_000;

/**
 * The wait before each reconnection: the server's `retry` (or the floor), doubled at each attempt
 * in a row, ±20% jitter, always within [floor, ceiling].
 */
export class ReconnectDelay {
  private attempts = 0;
  private serverMs: number | undefined;
  private readonly floor: number;
  private readonly ceiling: number;
  private readonly random: () => number;

  constructor(options: { floorMs?: number; ceilingMs?: number; random?: () => number } = {}) {
    this.floor = options.floorMs ?? RECONNECT_FLOOR_MS;
    this.ceiling = Math.max(this.floor, options.ceilingMs ?? RECONNECT_CEILING_MS);
    this.random = options.random ?? Math.random;
  }

  /** What the server asked for in its `retry:` field. */
  serverAsked(ms: number): void {
    this.serverMs = ms;
  }

  /** The connection stayed up: the next wait is the first of a new series. */
  reset(): void {
    this.attempts = 0;
  }

  next(): number {
    this.attempts += 1;
    const base = Math.max(this.floor, this.serverMs ?? this.floor);
    const grown = Math.min(this.ceiling, base * 2 ** Math.min(this.attempts - 1, 30));
    const jittered = grown * (0.8 + this.random() * 0.4);
    return Math.round(Math.min(this.ceiling, Math.max(this.floor, jittered)));
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface FollowOptions {
  readonly signal: AbortSignal;
  readonly lastEventId?: string | undefined;
  /** Failed attempts in a row (no connection, or a broken one) before the last error is thrown. */
  readonly maxReconnects?: number | undefined;
  readonly delay?: ReconnectDelay | undefined;
}

/**
 * Follows an event stream until `onEvent` returns true or the signal aborts, reconnecting with
 * Last-Event-ID after every end, clean or not, and waiting first (ReconnectDelay): a server that
 * closes at once, or says `retry: 0`, is not called in a tight loop. `connect` opens a connection
 * (a rejection is a failed attempt); an answer that is not ok ends it with `refusal`'s error.
 */
export async function followSse(
  connect: (lastEventId: string | undefined) => Promise<Response>,
  refusal: (response: Response) => Promise<Error>,
  onEvent: (event: SseEvent) => boolean | void,
  options: FollowOptions,
): Promise<'stopped' | 'aborted'> {
  const { signal } = options;
  const delay = options.delay ?? new ReconnectDelay();
  const maxFailures = options.maxReconnects ?? 30;
  let lastId = options.lastEventId;
  let failures = 0;
  while (!signal.aborted) {
    let response: Response | undefined;
    let openedAt: number | undefined;
    try {
      response = await connect(lastId);
    } catch (error) {
      if (signal.aborted) return 'aborted';
      if (++failures > maxFailures) throw error;
    }
    if (response !== undefined) {
      if (!response.ok || response.body === null) throw await refusal(response);
      failures = 0;
      openedAt = performance.now();
      try {
        const how = await readSse(
          response.body,
          (event) => {
            if (event.id !== undefined) lastId = event.id;
            return onEvent(event);
          },
          { onRetry: (ms) => delay.serverAsked(ms) },
        );
        if (how === 'stopped') return 'stopped';
      } catch (error) {
        if (signal.aborted) return 'aborted';
        if (++failures > maxFailures) throw error;
      }
    }
    if (openedAt !== undefined && performance.now() - openedAt >= RECONNECT_STABLE_MS) delay.reset();
    await pause(delay.next(), signal);
  }
  return 'aborted';
}
