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

/** The event-stream format (`field: value` lines, a blank line ends a message), chunk by chunk. */
export class SseParser {
  constructor() {
    this.buffer = '';
    /** @type {string[]} */
    this.data = [];
    this.event = '';
    /** The id of the latest message that set one: what a reconnection resumes after. */
    /** @type {string | null} */
    this.lastId = null;
    /** The reconnection delay the server asked for, in ms. */
    /** @type {number | null} */
    this.retry = null;
  }

  /**
   * @param {string} text
   * @returns {SseMessage[]}
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
    return messages;
  }

  /**
   * @param {string} line
   * @returns {SseMessage | null}
   */
  line(line) {
    if (line === '') {
      const message =
        this.data.length === 0
          ? null
          : {
              event: this.event === '' ? 'message' : this.event,
              data: this.data.join('\n'),
              id: this.lastId,
            };
      this.data = [];
      this.event = '';
      return message;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/**
 * Opens a stream and keeps it open until `close()`: after a drop it waits (the server's `retry`,
 * doubled at each failed attempt, at most `maxDelayMs`, with jitter) and resumes after the last id.
 * A stream silent for `idleMs` (the server sends a comment every 15 s) counts as dropped.
 * 401, 403 and 404 end it: another attempt would be refused the same way.
 * @param {string} url
 * @param {{
 *   headers: () => Record<string, string>,
 *   onMessage: (message: SseMessage) => void,
 *   onStatus: (status: StreamStatus) => void,
 *   maxDelayMs?: number,
 *   idleMs?: number,
 * }} options
 */
export function openEventStream(url, options) {
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const idleMs = options.idleMs ?? 45_000;
  const parser = new SseParser();
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
    }
    if (closed) return;
    // A stream that stayed up a while starts its backoff afresh; one that keeps failing waits longer.
    failures = openedAt !== 0 && Date.now() - openedAt > 10_000 ? 1 : failures + 1;
    const base = parser.retry ?? 1_000;
    const delay = Math.round(Math.min(maxDelayMs, base * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4));
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
