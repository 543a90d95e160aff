import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { agent, DependencyError } from './http-client.js';
import { seededRandom } from './random.js';
import { Semaphore } from './semaphore.js';

const MAX_BODY_BYTES = 1 << 20;

/** An answer other than 200 that a handler chooses on purpose. */
export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

let sink = 0;

/**
 * Spends `ms` of this process's CPU time: real work, so the CPU time per request is what the knob
 * says whatever else the machine runs. (Spinning for `ms` of wall time would burn less CPU when
 * the core is shared, and a revision's measured cost would depend on its neighbours.) A spin that
 * the scheduler starves for 50 times its budget gives up, so one request cannot hang a replica.
 */
export function burnCpu(ms) {
  if (!(ms > 0)) return;
  const budgetMicros = ms * 1000;
  const start = process.cpuUsage();
  const deadline = performance.now() + ms * 50;
  let x = sink;
  for (;;) {
    for (let i = 0; i < 2000; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
    const used = process.cpuUsage(start);
    if (used.user + used.system >= budgetMicros || performance.now() > deadline) break;
  }
  sink = x;
}

/**
 * Runs one shop service: `/healthz`, the business routes, and the fault knobs applied to every
 * business request in this order — wait for a concurrency slot (FIFO), burn CPU, retain memory,
 * sleep the added latency, maybe fail — then the route's handler.
 *
 * @param {{
 *   knobs: ReturnType<import('./knobs.js').readKnobs>,
 *   routes: Record<string, (ctx: { url: URL, body: any, key: string | undefined, random: () => number }) => Promise<object> | object>,
 *   onClose?: () => void | Promise<void>,
 * }} options routes are keyed by `METHOD /path`
 */
export function startService({ knobs, routes, onClose }) {
  const { service, version } = knobs;
  const random = seededRandom(knobs.seed);
  const slots = new Semaphore(knobs.concurrencyLimit);
  const retained = [];
  let retainedBytes = 0;
  let ready = false;
  let stopping = false;

  const send = (res, status, body) => {
    const payload = JSON.stringify(body);
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'x-shop-service': service,
      'x-shop-version': version,
    };
    // While draining, close each connection after its answer so the server can finish closing.
    if (stopping) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(payload);
  };

  const grow = () => {
    const bytes = Math.round(knobs.memoryGrowthKb * 1024);
    if (bytes <= 0 || retainedBytes + bytes > knobs.memoryGrowthMaxMb * 1024 * 1024) return;
    retained.push(Buffer.alloc(bytes, 1));
    retainedBytes += bytes;
  };

  const handle = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      req.resume();
      send(res, ready ? 200 : 503, { service, version, status: ready ? 'ready' : 'starting' });
      return;
    }
    const route = routes[`${req.method} ${url.pathname}`];
    if (route === undefined) {
      req.resume();
      send(res, 404, { service, version, error: `no route ${req.method} ${url.pathname}` });
      return;
    }
    try {
      const body = await readJson(req);
      const key = header(req.headers['x-augur-key']);
      await slots.acquire();
      try {
        burnCpu(knobs.cpuMs);
        grow();
        const delay = knobs.latencyMs + knobs.jitterMs * random();
        if (delay > 0) await sleep(delay);
        if (knobs.errorRate > 0 && random() < knobs.errorRate) throw new HttpError(500, 'injected failure');
        const result = await route({ url, body, key, random });
        send(res, 200, { service, version, ...result });
      } finally {
        slots.release();
      }
    } catch (error) {
      const status = error instanceof HttpError || error instanceof DependencyError ? error.status : 500;
      if (!res.headersSent) send(res, status, { service, version, error: error.message });
      else res.destroy();
    }
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((error) => {
      console.error(`${service}: ${error.stack ?? error}`);
      res.destroy();
    });
  });
  // Longer than the callers' idle reuse, so a pooled connection is not closed under a new request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const finish = async (code) => {
    try {
      await onClose?.();
    } catch (error) {
      console.error(`${service}: while closing: ${error.message}`);
      code = 1;
    }
    agent.destroy();
    process.exit(code);
  };

  const shutdown = (signal) => {
    if (stopping) return;
    stopping = true;
    ready = false;
    console.log(`${service} ${version}: ${signal}, finishing ${slots.held + slots.waiting} request(s)`);
    const deadline = setTimeout(() => {
      console.error(`${service}: requests still running after ${knobs.shutdownTimeoutMs} ms, closing anyway`);
      server.closeAllConnections();
      void finish(1);
    }, knobs.shutdownTimeoutMs);
    server.close(() => {
      clearTimeout(deadline);
      void finish(0);
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  server.once('error', (error) => {
    console.error(`${service}: cannot listen on 127.0.0.1:${knobs.port}: ${error.message}`);
    process.exit(1);
  });
  server.listen(knobs.port, '127.0.0.1', () => {
    ready = true;
    const { port } = server.address();
    console.log(`${service} ${version} listening on http://127.0.0.1:${port}`);
  });
  return server;
}

/** Starts a service from its module, turning a configuration error into a one-line exit. */
export function main(start) {
  try {
    start();
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the answer can still go out on this connection.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reject(new HttpError(413, 'request body too large'));
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError(400, 'request body is not JSON'));
      }
    });
  });
}

function header(value) {
  return Array.isArray(value) ? value[0] : value;
}
