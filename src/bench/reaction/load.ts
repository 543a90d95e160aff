import { Agent, request } from 'node:http';

/**
 * Steady load on 127.0.0.1: `rate` requests/s in batches every 10 ms, each with a request key
 * drawn round-robin from `keys` keys (the router splits by key, so about the canary's share of
 * the keys, and of the requests, go to the canary). Runs until stopped or `maxMs` has passed.
 */
export function steadyLoad(
  port: number,
  rate: number,
  maxMs: number,
  keys = 1000,
): { stop: () => Promise<{ sent: number; failed: number }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const perTick = rate / 100;
  let owed = 0;
  let next = 0;
  let sent = 0;
  let failed = 0;
  let inflight = 0;
  const one = (): void => {
    const key = `k-${next++ % keys}`;
    inflight++;
    const req = request(
      { host: '127.0.0.1', port, path: '/', agent, headers: { 'x-augur-key': key } },
      (res) => {
        res.resume();
        res.on('end', () => {
          inflight--;
          if ((res.statusCode ?? 0) >= 500) failed++;
        });
      },
    );
    req.on('error', () => {
      inflight--;
      failed++;
    });
    req.end();
    sent++;
  };
  const started = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - started > maxMs) {
      clearInterval(timer);
      return;
    }
    owed += perTick;
    // Never more than the sockets can carry: a stalled server must not grow the queue unbounded.
    for (; owed >= 1 && inflight < 256; owed--) one();
  }, 10);
  return {
    stop: async () => {
      clearInterval(timer);
      for (let i = 0; i < 200 && inflight > 0; i++) await new Promise((r) => setTimeout(r, 10));
      agent.destroy();
      return { sent, failed };
    },
  };
}

/** GET `path` from a process directly (not through the router); the body as text. */
export function get(port: number, path: string, timeoutMs = 2000): Promise<string> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', fail);
    req.end();
  });
}
