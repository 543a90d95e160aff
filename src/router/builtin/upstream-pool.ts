import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Endpoint } from '../router.js';

/** Whoever is using an upstream connection: one exchange at a time. */
export interface UpstreamUser {
  /**
   * Bytes from the upstream, in a view of a buffer shared by every upstream connection and
   * overwritten by the next read: whatever is kept or written must be copied first.
   */
  upstreamData(chunk: Buffer): void;
  upstreamDrain(): void;
  /** The connection ended (`code` null) or failed (the socket error code). Called at most once. */
  upstreamClosed(code: string | null): void;
}

/**
 * How long an idle connection is kept when the upstream does not say (`Keep-Alive: timeout=N`):
 * with the sweep period, below Node's default server keep-alive timeout (5 s), so the router gives
 * up a connection before the upstream closes it under a request in flight.
 */
const DEFAULT_IDLE_MS = 4_000;
/** Margin below the upstream's announced idle timeout. */
const IDLE_MARGIN_MS = 1_000;
const MAX_IDLE_PER_ENDPOINT = 256;
/**
 * Idle connections are expired by a periodic sweep rather than a socket timeout: a socket timeout
 * is re-armed on every read and write, a cost paid on each request.
 */
export const SWEEP_MS = 500;

/**
 * Reads from upstreams land in this one buffer (`onread`), handed over synchronously: no buffer
 * allocated per read and no readable-stream machinery on the path of every response.
 */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * One keep-alive connection to an upstream. Its listeners are attached once and forward to the
 * current user, so reusing a connection costs no listener churn.
 */
export class UpstreamConnection {
  readonly socket: Socket;
  readonly key: string;
  /** It served a request before this one: it may have been closed by the upstream meanwhile. */
  reused = false;
  private user: UpstreamUser | null = null;
  private open = true;
  /** While idle: the sweep tick from which it may no longer be used. */
  expires = 0;
  private readonly pool: UpstreamPool;

  constructor(pool: UpstreamPool, endpoint: Endpoint, key: string) {
    this.pool = pool;
    this.key = key;
    this.socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (length: number, chunk: Uint8Array): boolean => {
          // Bytes nobody asked for (while idle) would corrupt the next exchange: drop the connection.
          if (this.user === null) this.destroy();
          else this.user.upstreamData((chunk as Buffer).subarray(0, length));
          return true;
        },
      },
    });
    this.socket.on('drain', () => this.user?.upstreamDrain());
    this.socket.on('end', () => this.gone(null));
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.gone(error.code ?? 'EIO'));
    this.socket.on('close', () => this.gone('ECONNRESET'));
  }

  get isOpen(): boolean {
    return this.open;
  }

  attach(user: UpstreamUser): void {
    this.user = user;
  }

  /** Back to the pool for the next request. `idleTimeoutMs`: the upstream's Keep-Alive hint. */
  release(idleTimeoutMs: number | null): void {
    this.user = null;
    this.reused = true;
    const idleMs =
      idleTimeoutMs === null ? DEFAULT_IDLE_MS : Math.min(DEFAULT_IDLE_MS, idleTimeoutMs - IDLE_MARGIN_MS);
    // Whole sweep periods, less one for the part of a period already gone.
    const periods = Math.floor(idleMs / SWEEP_MS) - 1;
    if (!this.open || periods <= 0) {
      this.destroy();
      return;
    }
    this.expires = this.pool.ticks + periods;
    // Reading on, so that the upstream closing an idle connection is seen at once.
    if (this.socket.isPaused()) this.socket.resume();
    this.pool.park(this);
  }

  destroy(): void {
    this.user = null;
    this.gone(null);
  }

  private gone(code: string | null): void {
    if (!this.open) return;
    this.open = false;
    this.pool.forget(this);
    this.socket.destroy();
    const user = this.user;
    this.user = null;
    user?.upstreamClosed(code);
  }
}

/** Keep-alive connections per upstream endpoint; the most recently used idle one is reused first. */
export class UpstreamPool {
  private readonly idle = new Map<string, UpstreamConnection[]>();
  private readonly all = new Set<UpstreamConnection>();
  /** Sweeps so far: the clock idle connections expire by. */
  ticks = 0;

  /** An idle connection to `endpoint`, or a new one when none is idle or `fresh` is asked. */
  acquire(endpoint: Endpoint, key: string, user: UpstreamUser, fresh: boolean): UpstreamConnection {
    const idle = fresh ? undefined : this.idle.get(key);
    let connection = idle?.pop();
    while (connection !== undefined && !connection.isOpen) connection = idle?.pop();
    if (connection === undefined) {
      connection = new UpstreamConnection(this, endpoint, key);
      this.all.add(connection);
    }
    connection.attach(user);
    return connection;
  }

  /** Called by a released connection. */
  park(connection: UpstreamConnection): void {
    let idle = this.idle.get(connection.key);
    if (idle === undefined) {
      idle = [];
      this.idle.set(connection.key, idle);
    }
    if (idle.length >= MAX_IDLE_PER_ENDPOINT) connection.destroy();
    else idle.push(connection);
  }

  /** Called by a connection that closed. */
  forget(connection: UpstreamConnection): void {
    this.all.delete(connection);
    const idle = this.idle.get(connection.key);
    const at = idle === undefined ? -1 : idle.indexOf(connection);
    if (at !== -1) idle?.splice(at, 1);
  }

  /** Closes the idle connections past their time; called every `SWEEP_MS`. */
  sweep(): void {
    this.ticks++;
    for (const idle of this.idle.values()) {
      for (const connection of idle.filter((c) => c.expires <= this.ticks)) connection.destroy();
    }
  }

  /** Drops idle connections to endpoints that no revision lists any more. */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, idle] of this.idle) {
      if (keys.has(key)) continue;
      this.idle.delete(key);
      for (const connection of idle) connection.destroy();
    }
  }

  destroyAll(): void {
    for (const connection of [...this.all]) connection.destroy();
    this.idle.clear();
  }
}

export function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}
