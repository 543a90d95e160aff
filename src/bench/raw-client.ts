import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * A lean HTTP/1.1 keep-alive client for benchmarks: pre-encoded GET, responses framed by
 * Content-Length only. It costs the load side a fraction of node:http's CPU, so the figures show
 * the server under test rather than the client's own event loop.
 */
class Connection {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { start: number; done: (ms: number, ok: boolean) => void } | null = null;
  busy = false;

  constructor(port: number, request: Buffer, onClose: () => void) {
    this.request = request;
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => this.fail());
    this.socket.on('close', () => {
      this.fail();
      onClose();
    });
  }

  private readonly request: Buffer;

  send(done: (ms: number, ok: boolean) => void): void {
    this.busy = true;
    this.pending = { start: performance.now(), done };
    this.socket.write(this.request);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(HEADER_END);
    if (end === -1) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const match = /content-length:\s*(\d+)/i.exec(head);
    const length = match === null ? 0 : Number(match[1]);
    const total = end + HEADER_END.length + length;
    if (this.buffer.length < total) return;
    const ok = head.startsWith('HTTP/1.1 200');
    this.buffer = this.buffer.subarray(total);
    const pending = this.pending;
    this.pending = null;
    this.busy = false;
    pending?.done(performance.now() - pending.start, ok);
  }

  private fail(): void {
    const pending = this.pending;
    this.pending = null;
    this.busy = false;
    pending?.done(performance.now() - (pending?.start ?? 0), false);
  }
}

export class RawClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly request: Buffer;
  private readonly port: number;

  constructor(port: number, path = '/') {
    this.port = port;
    this.request = Buffer.from(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-augur-key: bench\r\n\r\n`,
      'latin1',
    );
  }

  /** One request on an idle keep-alive connection (a new one when none is idle). */
  get(): Promise<{ ms: number; ok: boolean }> {
    const connection =
      this.idle.pop() ??
      new Connection(this.port, this.request, () => {
        this.all.delete(connection);
      });
    this.all.add(connection);
    return new Promise((resolve) =>
      connection.send((ms, ok) => {
        if (ok) this.idle.push(connection);
        else connection.close();
        resolve({ ms, ok });
      }),
    );
  }

  close(): void {
    for (const c of this.all) c.close();
    this.all.clear();
    this.idle.length = 0;
  }
}
