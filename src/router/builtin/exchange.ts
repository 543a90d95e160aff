import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RequestObserver, RequestOutcome } from '../../metrics/observer.js';
import type { Endpoint } from '../router.js';
import type { Deadlines, Expiring } from './deadlines.js';
import type { RequestSampler } from './request-sampler.js';
import {
  clientResponseHead,
  interimHead,
  RESPONSE_FIELDS,
  routerResponse,
  upstreamRequestHead,
} from './rewrite.js';
import type { UpstreamConnection, UpstreamPool, UpstreamUser } from './upstream-pool.js';
import type { BodyTracker } from './wire/body.js';
import { trackBody } from './wire/body.js';
import { headEnd, MAX_HEAD_BYTES } from './wire/fields.js';
import type { RequestHead } from './wire/request-head.js';
import type { ResponseHead } from './wire/response-head.js';
import { parseResponseHead } from './wire/response-head.js';

/** Where a request goes, decided by the service from its head. */
export interface Route {
  readonly revision: string;
  /** The sticky key, forwarded as `x-augur-key`. */
  readonly key: string;
  /** Set-Cookie value for a key minted at the entrypoint, or null. */
  readonly cookie: string | null;
  /** The replica chosen, or null when the revision has none running. */
  readonly endpoint: Endpoint | null;
  readonly endpointKey: string;
}

export interface ServiceContext {
  readonly name: string;
  readonly timeoutMs: number;
  readonly observer: RequestObserver;
  readonly upstreams: UpstreamPool;
  /** Where each exchange's deadline (`timeoutMs` after it starts) is watched. */
  readonly deadlines: Deadlines;
  /** Counts the idle sweeps: a coarse clock for idle connections. */
  readonly ticks: number;
  /** Records a bounded sample of the service's requests; null when sampling is off. */
  readonly sampler: RequestSampler | null;
  route(head: RequestHead, remote: string): Route;
}

/** The client connection, as one exchange on it sees it. */
export interface ExchangeHost {
  readonly socket: Socket;
  readonly remote: string;
  /** The exchange is over; `reuse`: the connection may carry the next request. */
  exchangeDone(reuse: boolean): void;
  /** Stop (or resume) reading the request body: the upstream is not keeping up. */
  pauseRequest(): void;
  resumeRequest(): void;
  /** Ends the connection at once: a response that was begun cannot be completed. */
  destroy(): void;
}

// RFC 9110 §9.2.2: these may be sent again when a connection fails before any answer.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * One request and its response through the router: the request head rewritten and its body
 * streamed upstream, the response head rewritten and its body streamed back, each body delimited
 * by its framing so that both connections can carry the next message. Reported to the observer
 * exactly once, whatever ends it.
 */
export class Exchange implements UpstreamUser, Expiring {
  private readonly host: ExchangeHost;
  private readonly service: ServiceContext;
  private readonly head: RequestHead;
  private readonly route: Route;
  private readonly started: number;
  readonly deadline: number;
  private readonly request: BodyTracker;
  private readonly forwarded: string;
  private upstream: UpstreamConnection | null = null;
  /** Bytes of a response head received so far. */
  private partial: Buffer | null = null;
  private response: ResponseHead | null = null;
  private responseBody: BodyTracker | null = null;
  private responded = false; // the client got a response head (final, not 1xx)
  private answered = false; // the upstream sent at least one byte
  private replayed = false;
  /** The upstream sent bytes past the end of its response: its connection cannot be reused. */
  private overrun = false;
  private close: boolean;
  private done = false;
  /** Links of the deadline queue (`Deadlines`). */
  older: Expiring | null = null;
  newer: Expiring | null = null;

  constructor(host: ExchangeHost, service: ServiceContext, head: RequestHead) {
    this.started = performance.now();
    this.deadline = this.started + service.timeoutMs;
    this.host = host;
    this.service = service;
    this.head = head;
    this.route = service.route(head, host.remote);
    this.request = trackBody(head.framing);
    this.close = !head.keepAlive;
    this.forwarded = upstreamRequestHead(head, this.route.key, host.remote);
  }

  /**
   * Sends the request with the bytes that came with its head (`buffer` from `offset`); returns how
   * many of them were its body.
   */
  start(buffer: Buffer, offset: number): number {
    const { service, route } = this;
    service.observer.requestStarted(service.name, route.revision);
    const used = this.request.consume(buffer, offset);
    if (this.request.error !== null) {
      this.fail(400, 'ok', 'malformed chunked request body');
      return used;
    }
    service.sampler?.offer(this.head, buffer, offset, used);
    if (route.endpoint === null) {
      this.fail(502, 'error', `no running instance of ${service.name} ${route.revision}`);
      return used;
    }
    service.deadlines.add(this);
    this.upstream = service.upstreams.acquire(route.endpoint, route.endpointKey, this, false);
    this.send(buffer, offset, offset + used);
    return used;
  }

  get requestDone(): boolean {
    return this.request.done;
  }

  /** More request body from the client; returns how many bytes were part of it. */
  requestData(chunk: Buffer): number {
    if (this.done || this.request.done) return 0;
    const used = this.request.consume(chunk, 0);
    if (this.request.error !== null) {
      this.fail(400, 'ok', 'malformed chunked request body');
      return chunk.length;
    }
    if (used > 0 && this.upstream !== null) {
      if (!this.upstream.socket.write(used === chunk.length ? chunk : chunk.subarray(0, used)))
        this.host.pauseRequest();
    }
    return used;
  }

  clientDrain(): void {
    if (this.upstream?.socket.isPaused() === true) this.upstream.socket.resume();
  }

  /** The client went away before its answer: not the revision's fault. */
  clientGone(): void {
    if (this.done) return;
    this.dropUpstream();
    this.finish(499, 'ok');
  }

  upstreamDrain(): void {
    this.host.resumeRequest();
  }

  upstreamData(chunk: Buffer): void {
    if (this.done) return;
    this.answered = true;
    if (this.response === null) this.readHead(chunk);
    else this.forwardBody(chunk);
  }

  upstreamClosed(code: string | null): void {
    const connection = this.upstream;
    this.upstream = null;
    if (this.done) return;
    // A body delimited by the close ends with a clean close; a reset cuts it short.
    if (this.response?.framing.kind === 'close' && code === null) {
      this.complete();
      return;
    }
    // A pooled connection the upstream closed while the request was on its way: nothing was
    // answered, so a request that is safe to repeat goes again on a fresh connection.
    if (connection?.reused === true && !this.answered && !this.replayed && this.replayable()) {
      this.replayed = true;
      const route = this.route;
      this.upstream = this.service.upstreams.acquire(
        route.endpoint as Endpoint,
        route.endpointKey,
        this,
        true,
      );
      this.send(null, 0, 0);
      return;
    }
    // Hung up on (a reset, or a close before the answer) is a reset; anything else (refused,
    // unreachable) an error.
    const outcome: RequestOutcome =
      code === null || code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'error';
    const { service, route } = this;
    this.fail(502, outcome, `${service.name} ${route.revision} failed: ${code ?? 'connection closed'}`);
  }

  private replayable(): boolean {
    return this.head.framing.kind === 'none' && IDEMPOTENT.has(this.head.method);
  }

  /** Writes the request head, with the body bytes in `body[from, to)`. */
  private send(body: Buffer | null, from: number, to: number): void {
    const socket = (this.upstream as UpstreamConnection).socket;
    let flushed: boolean;
    if (body === null || from === to) {
      flushed = socket.write(this.forwarded, 'latin1');
    } else {
      // One write, one segment: the head and the body bytes that came with it.
      const out = Buffer.allocUnsafe(this.forwarded.length + to - from);
      out.write(this.forwarded, 0, 'latin1');
      body.copy(out, this.forwarded.length, from, to);
      flushed = socket.write(out);
    }
    if (!flushed && !this.request.done) this.host.pauseRequest();
  }

  private readHead(chunk: Buffer): void {
    const buffer = this.partial === null ? chunk : Buffer.concat([this.partial, chunk]);
    const searchFrom = this.partial === null ? 0 : Math.max(0, this.partial.length - 3);
    this.partial = null;
    let from = 0;
    let end = headEnd(buffer, searchFrom);
    for (; end !== -1; end = headEnd(buffer, from)) {
      const parsed = parseResponseHead(
        buffer.toString('latin1', from, end - 4),
        this.head.method,
        RESPONSE_FIELDS,
      );
      if (!parsed.ok) {
        this.fail(502, 'error', `${this.service.name} ${this.route.revision}: ${parsed.message}`);
        return;
      }
      const head = parsed.head;
      if (head.status >= 200) {
        this.respond(head, buffer, end);
        return;
      }
      // An upgrade was never asked for (the router refuses them), so 101 is a broken answer.
      if (head.status === 101) {
        this.fail(502, 'error', `${this.service.name} ${this.route.revision}: unexpected 101`);
        return;
      }
      // 1xx interim answers (100 Continue, 103 Early Hints) are for HTTP/1.1 clients only.
      if (this.head.minor === 1) this.host.socket.write(interimHead(head), 'latin1');
      from = end;
    }
    if (buffer.length - from > MAX_HEAD_BYTES) {
      this.fail(502, 'error', `${this.service.name} ${this.route.revision}: response head too large`);
      return;
    }
    // Kept past this read: copied out of the shared read buffer.
    if (from < buffer.length) this.partial = Buffer.from(buffer.subarray(from));
  }

  private respond(head: ResponseHead, buffer: Buffer, bodyStart: number): void {
    const body = trackBody(head.framing);
    const used = body.consume(buffer, bodyStart);
    if (body.error !== null) {
      this.fail(502, 'error', `${this.service.name} ${this.route.revision}: ${body.error}`);
      return;
    }
    // The router forwards chunks as they are, which an HTTP/1.0 client could not read; it asked
    // for HTTP/1.0 upstream, so chunked here is the upstream's fault.
    if (head.framing.kind === 'chunked' && this.head.minor === 0) {
      this.fail(502, 'error', `${this.service.name} ${this.route.revision}: chunked answer to HTTP/1.0`);
      return;
    }
    this.response = head;
    this.responseBody = body;
    if (head.framing.kind === 'close') this.close = true;
    const text = clientResponseHead(head, {
      revision: this.route.revision,
      cookie: this.route.cookie,
      close: this.close,
      http10: this.head.minor === 0,
    });
    let flushed: boolean;
    if (used === 0) {
      flushed = this.host.socket.write(text, 'latin1');
    } else {
      const out = Buffer.allocUnsafe(text.length + used);
      out.write(text, 0, 'latin1');
      buffer.copy(out, text.length, bodyStart, bodyStart + used);
      flushed = this.host.socket.write(out);
    }
    this.responded = true;
    if (bodyStart + used < buffer.length) this.overrun = true;
    if (body.done) this.complete();
    else if (!flushed) this.upstream?.socket.pause();
  }

  private forwardBody(chunk: Buffer): void {
    const body = this.responseBody as BodyTracker;
    const used = body.consume(chunk, 0);
    if (body.error !== null) {
      this.fail(502, 'error', body.error);
      return;
    }
    // A copy: the socket may hold on to what it is given, and the read buffer is shared.
    const flushed = used === 0 || this.host.socket.write(Buffer.from(chunk.subarray(0, used)));
    if (used < chunk.length) this.overrun = true;
    if (body.done) this.complete();
    else if (!flushed) this.upstream?.socket.pause();
  }

  /** The whole response reached the client's socket. */
  private complete(): void {
    const response = this.response as ResponseHead;
    const upstream = this.upstream;
    this.upstream = null;
    if (upstream !== null) {
      if (this.request.done && response.keepAlive && !this.overrun) upstream.release(response.idleTimeoutMs);
      else upstream.destroy();
    }
    this.finish(response.status, response.status >= 500 ? 'error' : 'ok');
    // A request body the upstream did not wait for leaves the client connection unusable.
    this.host.exchangeDone(!this.close && this.request.done);
  }

  /** Called by the deadlines when the service's timeout has passed. */
  expire(): void {
    const { service, route } = this;
    this.fail(
      504,
      'timeout',
      `${service.name} ${route.revision} did not answer within ${service.timeoutMs} ms`,
    );
  }

  /** Ends the exchange with the router's own answer, or by closing if a response was begun. */
  private fail(status: number, outcome: RequestOutcome, message: string): void {
    if (this.done) return;
    this.dropUpstream();
    if (this.responded) {
      this.finish(status, outcome);
      this.host.destroy();
      return;
    }
    const close = this.close || !this.request.done;
    this.responded = true;
    this.host.socket.write(
      routerResponse(status, message, {
        revision: this.route.revision,
        close,
        http10: this.head.minor === 0,
        headOnly: this.head.method === 'HEAD',
      }),
      'latin1',
    );
    this.finish(status, outcome);
    this.host.exchangeDone(!close);
  }

  private dropUpstream(): void {
    const upstream = this.upstream;
    this.upstream = null;
    upstream?.destroy();
  }

  private finish(status: number, outcome: RequestOutcome): void {
    this.done = true;
    this.service.deadlines.delete(this);
    const { service, route } = this;
    service.observer.requestEnded(
      service.name,
      route.revision,
      performance.now() - this.started,
      status,
      outcome,
    );
  }
}
