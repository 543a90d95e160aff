/**
 * The parts of the proxy benchmark, each run in its own process so that none shares an event loop
 * with the load: `upstream` (a minimal HTTP server), `router` (the builtin router with the builtin
 * metrics recording every request, as in production) and `pipe` (a TCP relay that copies bytes
 * without reading them: the least any proxy in Node costs on the machine, for reference).
 * Each prints its port on stdout once listening.
 */
import { createServer } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuiltinMetrics } from '../metrics/builtin/index.js';
import { BuiltinRouter } from '../router/builtin/builtin-router.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';

const [role, upstreamPort] = process.argv.slice(2);

if (role === 'upstream') {
  const body = Buffer.from('hello from upstream\n');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
  });
} else if (role === 'router') {
  const dir = mkdtempSync(join(tmpdir(), 'augur-bench-'));
  const store = new SqliteStore(join(dir, 'augur.db'));
  const metrics = new BuiltinMetrics({ store, processes: { processes: () => [] }, onError: () => undefined });
  metrics.start();
  const noop = { requestStarted: () => undefined, requestEnded: () => undefined };
  const router = new BuiltinRouter({
    observer: process.env.BENCH_NO_METRICS === '1' ? noop : metrics,
    services: [{ name: 'bench', port: 0, stable: 'v1', timeoutMs: 5_000, entrypoint: false }],
  });
  await router.start();
  await router.setEndpoints('bench', 'v1', [{ host: '127.0.0.1', port: Number(upstreamPort) }]);
  process.stdout.write(`${router.address('bench').port}\n`);
  process.on('SIGTERM', () => {
    void router.close().then(async () => {
      await metrics.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else if (role === 'pipe') {
  // One upstream connection per client connection, bytes relayed as they come.
  const server = createTcpServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: Number(upstreamPort), noDelay: true });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
  });
} else {
  process.stderr.write('usage: proxy-parts upstream | router UPSTREAM_PORT | pipe UPSTREAM_PORT\n');
  process.exit(2);
}
