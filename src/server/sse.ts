import type { IncomingMessage, ServerResponse } from 'node:http';
import { NOSNIFF } from './http.js';

export interface SseMessage {
  readonly id?: string;
  readonly event: string;
  readonly data: unknown;
}

export interface SseOptions {
  /** A comment line this often keeps idle proxies from closing the stream. */
  readonly heartbeatMs?: number;
  /** A client that lets this much output pile up is dropped; it resumes with Last-Event-ID. */
  readonly maxBacklogBytes?: number;
}

/** One Server-Sent Events response: `id:` / `event:` / `data:` (one line of JSON) per message. */
export class SseStream {
  private readonly res: ServerResponse;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBacklog: number;
  private readonly closers: (() => void)[] = [];
  private ended = false;

  constructor(req: IncomingMessage, res: ServerResponse, options: SseOptions = {}) {
    this.res = res;
    this.maxBacklog = options.maxBacklogBytes ?? 1024 * 1024;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...NOSNIFF,
    });
    res.write('retry: 2000\n\n');
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    // The response's close is the connection's: the request's may come as soon as its body ends.
    res.on('close', () => this.close());
    // A client gone while the route was still looking things up: nothing will tell us again.
    if (req.destroyed || res.destroyed || res.socket === null || res.socket.destroyed) this.close();
  }

  get closed(): boolean {
    return this.ended;
  }

  send(message: SseMessage): void {
    const id = message.id !== undefined ? `id: ${message.id}\n` : '';
    this.write(`${id}event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`);
  }

  onClose(fn: () => void): void {
    if (this.ended) fn();
    else this.closers.push(fn);
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    for (const fn of this.closers.splice(0)) fn();
    this.res.end();
  }

  private write(text: string): void {
    if (this.ended) return;
    if (this.res.writableLength > this.maxBacklog) {
      this.res.destroy();
      this.close();
      return;
    }
    this.res.write(text);
  }
}
