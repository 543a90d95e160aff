import type { Socket } from 'node:net';
import type { ExchangeHost, ServiceContext } from './exchange.js';
import { Exchange } from './exchange.js';
import { CLIENT_IDLE_MS, REQUEST_FIELDS, routerResponse } from './rewrite.js';
import { headEnd, MAX_HEAD_BYTES } from './wire/fields.js';
import { parseRequestHead } from './wire/request-head.js';
import { SWEEP_MS } from './upstream-pool.js';

/**
 * A client's keep-alive connection: one exchange at a time. Requests a client pipelines are held
 * (up to a head's worth, then reading pauses) and served in order once the previous response is
 * complete. Malformed requests are answered here and the connection closed; they reach no
 * revision, so the observer does not see them.
 */
export class ClientConnection implements ExchangeHost {
  readonly socket: Socket;
  readonly remote: string;
  private readonly service: ServiceContext;
  /** Bytes received past the current request: the start of the next one. */
  private pending: Buffer | null = null;
  /** How much of `pending` was already searched for the end of a head. */
  private scanned = 0;
  private exchange: Exchange | null = null;
  private closing = false;
  private parsing = false;
  private requestPaused = false;
  /** The sweep tick at which the connection last went idle. */
  private idleSince: number;

  constructor(socket: Socket, service: ServiceContext, onClose: (connection: ClientConnection) => void) {
    this.socket = socket;
    this.service = service;
    this.remote = socket.remoteAddress ?? 'unknown';
    this.idleSince = service.ticks;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.exchange?.clientDrain());
    // A client that half-closes is treated as gone, as node:http does: its pending answer is
    // dropped (499). Between requests, Node ends our side after the writes flush.
    socket.on('end', () => {
      if (this.exchange !== null) this.gone();
      else this.closing = true;
    });
    socket.on('error', () => this.gone());
    socket.on('close', () => {
      this.gone();
      onClose(this);
    });
  }

  exchangeDone(reuse: boolean): void {
    this.exchange = null;
    this.idleSince = this.service.ticks;
    if (!reuse || this.closing) {
      this.closing = true;
      this.socket.end();
      return;
    }
    this.resumeRequest();
    if (this.socket.isPaused()) this.socket.resume();
    if (!this.parsing) this.next();
  }

  pauseRequest(): void {
    this.requestPaused = true;
    this.socket.pause();
  }

  resumeRequest(): void {
    if (!this.requestPaused) return;
    this.requestPaused = false;
    if ((this.pending?.length ?? 0) <= MAX_HEAD_BYTES) this.socket.resume();
  }

  destroy(): void {
    this.gone();
  }

  /**
   * Closes the connection if no request has been under way for `CLIENT_IDLE_MS` (a partial head
   * counts as idle: the client had that long to send it). A request in flight has its own deadline.
   */
  sweep(ticks: number): void {
    if (this.exchange === null && (ticks - this.idleSince) * SWEEP_MS > CLIENT_IDLE_MS) this.gone();
  }

  private gone(): void {
    this.closing = true;
    const exchange = this.exchange;
    this.exchange = null;
    exchange?.clientGone();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    let rest = chunk;
    const exchange = this.exchange;
    if (exchange !== null && !exchange.requestDone) {
      const used = exchange.requestData(chunk);
      if (used === chunk.length || this.closing) return;
      rest = chunk.subarray(used);
    }
    this.pending = this.pending === null ? rest : Buffer.concat([this.pending, rest]);
    if (this.exchange === null) this.next();
    else if (this.pending.length > MAX_HEAD_BYTES) this.socket.pause();
  }

  /** Starts the exchanges for the complete requests held in `pending`, one at a time. */
  private next(): void {
    this.parsing = true;
    while (this.exchange === null && !this.closing && this.pending !== null) {
      let buffer = this.pending;
      // RFC 9112 §2.2: empty lines before a request line are tolerated (some clients send a CRLF
      // after a body).
      let start = 0;
      while (buffer[start] === 0x0d && buffer[start + 1] === 0x0a) start += 2;
      if (start > 0) {
        buffer = buffer.subarray(start);
        this.scanned = Math.max(0, this.scanned - start);
      }
      const end = headEnd(buffer, Math.max(0, this.scanned - 3));
      if (end === -1 || end > MAX_HEAD_BYTES) {
        if (buffer.length > MAX_HEAD_BYTES) this.reject(431, 'request head too large');
        else {
          this.pending = buffer.length === 0 ? null : buffer;
          this.scanned = buffer.length;
        }
        break;
      }
      this.scanned = 0;
      const parsed = parseRequestHead(buffer.toString('latin1', 0, end - 4), REQUEST_FIELDS);
      if (!parsed.ok) {
        this.reject(parsed.status, parsed.message);
        break;
      }
      const head = parsed.head;
      // Upgrades (WebSocket, h2c) and tunnels are not relayed: the router measures requests.
      if (head.upgrade || head.method === 'CONNECT') {
        this.reject(501, 'the router does not relay upgrades or tunnels');
        break;
      }
      this.pending = null;
      const exchange = new Exchange(this, this.service, head);
      this.exchange = exchange;
      const next = end + exchange.start(buffer, end);
      if (next < buffer.length && !this.closing) this.pending = buffer.subarray(next);
    }
    this.parsing = false;
  }

  private reject(status: number, message: string): void {
    this.closing = true;
    this.pending = null;
    this.socket.end(
      routerResponse(status, message, { revision: null, close: true, http10: false, headOnly: false }),
      'latin1',
    );
  }
}
