/**
 * Server-Sent Events over fetch(). EventSource cannot send an Authorization header, so the page
 * reads the stream itself: it parses the messages, resumes with Last-Event-ID after a drop, and
 * reconnects with exponential backoff, saying at every step whether it is connected.
 */

/**
 * @typedef {{ event: string, data: string, id: string | null }} SseMessage
 * @typedef {{ state: 'connecting' }
 *   | { state: 'open' }
 *   | { state: 'disconnected', retryInMs: number, reason: string }
 *   | { state: 'failed', status: number, reason: string }} StreamStatus
 */

/**
 * The most text one message may hold while it is read (its unfinished line and the data lines
 * before it): a server sending a line that never ends must not take all the tab's memory.
 */
export const MAX_MESSAGE_CHARS = 1 << 20;
/** No reconnection sooner than this, whatever the server asks (`retry: 0`) or however fast it closes. */
export const MIN_RETRY_MS = 1_000;

/** A message past MAX_MESSAGE_CHARS: the connection is dropped and made anew. */
export class SseOverflowError extends Error {
  /** @param {number} max */
  constructor(max) {
    super(`the server sent a message longer than ${max} characters`);
    this.name = 'SseOverflowError';
  }
}

/**
 * The event-stream format (`field: value` lines, a blank line ends a message), chunk by chunk.
 * `reset()` starts each connection afresh; what a reconnection resumes after (`lastId`) and the
 * server's `retry` carry over.
 */
export class SseParser {
  /** @param {number} [maxChars] */
  constructor(maxChars = MAX_MESSAGE_CHARS) {
    this.maxChars = maxChars;
    /** The id of the latest message dispatched that carried one: what a reconnection resumes after. */
    /** @type {string | null} */
    this.lastId = null;
    /** The reconnection delay the server asked for, in ms. */
    /** @type {number | null} */
    this.retry = null;
    this.reset();
  }

  /** Forgets the message being read (a new connection never completes the last one's). */
  reset() {
    this.buffer = '';
    /** @type {string[]} */
    this.data = [];
    this.dataChars = 0;
    this.event = '';
    /** The id the message being read says, until it is dispatched. */
    /** @type {string | null} */
    this.pendingId = this.lastId;
  }

  /**
   * @param {string} text
   * @returns {SseMessage[]}
   * @throws {SseOverflowError} when a message grows past the cap
   */
  push(text) {
    this.buffer += text;
    const messages = [];
    for (;;) {
      const end = /\r\n|\r|\n/.exec(this.buffer);
      if (end === null) break;
      // A CR at the very end may be the first half of a CRLF still in transit.
      if (end[0] === '\r' && end.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end[0].length);
      const message = this.line(line);
      if (message !== null) messages.push(message);
    }
    if (this.buffer.length + this.dataChars > this.maxChars) throw new SseOverflowError(this.maxChars);
    return messages;
  }

  /**
   * @param {string} line
   * @returns {SseMessage | null}
   */
  line(line) {
    if (line === '') {
      // The message is whole: only now does its id become the one to resume after.
      this.lastId = this.pendingId;
      const message =
        this.data.length === 0
          ? null
          : {
              event: this.event === '' ? 'message' : this.event,
              data: this.data.join('\n'),
              id: this.lastId,
            };
      this.data = [];
      this.dataChars = 0;
      this.event = '';
      return message;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.dataChars += value.length + 1;
    } else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.pendingId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/**
 * The wait before a reconnection: the server's `retry` (never below `minMs`), doubled at each
 * failure in a row, at most `maxMs`, with ±20% jitter that stays within [minMs, maxMs].
 * @param {{ retry: number | null, failures: number, minMs?: number, maxMs?: number, random?: () => number }} o
 * @returns {number}
 */
export function retryDelay(o) {
  const minMs = o.minMs ?? MIN_RETRY_MS;
  const maxMs = Math.max(minMs, o.maxMs ?? 30_000);
  const base = Math.max(minMs, o.retry ?? minMs);
  const grown = Math.min(maxMs, base * 2 ** Math.min(Math.max(o.failures - 1, 0), 30));
  const jittered = grown * (0.8 + (o.random ?? Math.random)() * 0.4);
  return Math.round(Math.min(maxMs, Math.max(minMs, jittered)));
}

/**
 * Opens a stream and keeps it open until `close()`: after a drop it waits (retryDelay: the server's
 * `retry`, never less than `minDelayMs`, doubled at each failed attempt, at most `maxDelayMs`) and
 * resumes after the last id. A stream that ends soon after it opened counts as failed, so a server
 * that closes at once is not called in a tight loop. A stream silent for `idleMs` (the server
 * sends a comment every 15 s), or sending a message longer than `maxMessageChars`, is dropped.
 * 401, 403 and 404 end it: another attempt would be refused the same way.
 * @param {string} url
 * @param {{
 *   headers: () => Record<string, string>,
 *   onMessage: (message: SseMessage) => void,
 *   onStatus: (status: StreamStatus) => void,
 *   minDelayMs?: number,
 *   maxDelayMs?: number,
 *   idleMs?: number,
 *   maxMessageChars?: number,
 * }} options
 */
export function openEventStream(url, options) {
  const minDelayMs = Math.max(options.minDelayMs ?? MIN_RETRY_MS, 0);
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const idleMs = options.idleMs ?? 45_000;
  const parser = new SseParser(options.maxMessageChars);
  let closed = false;
  let failures = 0;
  /** @type {AbortController | null} */
  let current = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retryTimer;

  const connect = async () => {
    if (closed) return;
    const abort = new AbortController();
    current = abort;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let idle;
    const awake = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new Error('no data from the server for a while')), idleMs);
    };
    let reason = 'the server ended the stream';
    let openedAt = 0;
    options.onStatus({ state: 'connecting' });
    // Nothing of the previous connection's unfinished message carries over.
    parser.reset();
    try {
      awake();
      const headers = { accept: 'text/event-stream', ...options.headers() };
      if (parser.lastId !== null) headers['last-event-id'] = parser.lastId;
      const response = await fetch(url, {
        headers,
        cache: 'no-store',
        credentials: 'omit',
        signal: abort.signal,
      });
      if (!response.ok || response.body === null) {
        const detail = await response.json().catch(() => null);
        const said = typeof detail?.error === 'string' ? detail.error : `HTTP ${response.status}`;
        if ([401, 403, 404].includes(response.status)) {
          closed = true;
          options.onStatus({ state: 'failed', status: response.status, reason: said });
          return;
        }
        throw new Error(said);
      }
      openedAt = Date.now();
      options.onStatus({ state: 'open' });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        awake();
        for (const message of parser.push(value)) options.onMessage(message);
      }
    } catch (error) {
      if (abort.signal.aborted && abort.signal.reason instanceof Error) reason = abort.signal.reason.message;
      // fetch() says only "Failed to fetch" or "network error": say which it was.
      else if (error instanceof TypeError)
        reason = openedAt === 0 ? 'the server cannot be reached' : 'the connection was lost';
      else reason = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(idle);
      // Whatever ended the reading (an overflow, a handler's error), the connection goes too.
      if (!abort.signal.aborted) abort.abort(new Error('the stream was dropped'));
    }
    if (closed) return;
    // A stream that stayed up a while starts its backoff afresh; one that keeps failing waits longer.
    failures = openedAt !== 0 && Date.now() - openedAt > 10_000 ? 1 : failures + 1;
    const delay = retryDelay({ retry: parser.retry, failures, minMs: minDelayMs, maxMs: maxDelayMs });
    options.onStatus({ state: 'disconnected', retryInMs: delay, reason });
    retryTimer = setTimeout(() => void connect(), delay);
  };

  void connect();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      current?.abort(new Error('closed'));
    },
  };
}
