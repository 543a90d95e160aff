import { Agent, request } from 'node:http';

const KEY_HEADER = 'x-augur-key';

/** One keep-alive pool per process: calls between services reuse their connections. */
export const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

/** A dependency that failed or answered with an error status; the caller answers 502 or 504. */
export class DependencyError extends Error {
  constructor(service, status, message) {
    super(message);
    this.name = 'DependencyError';
    this.service = service;
    this.status = status;
  }
}

/**
 * Calls a dependency and parses its JSON answer. The caller's `x-augur-key` travels along, so the
 * router keeps the user on the same canary assignment at every hop.
 *
 * @returns {Promise<{ status: number, body: any, version: string | undefined, revision: string | undefined }>}
 */
export function callJson(service, baseUrl, path, { method = 'GET', body, key, timeoutMs = 2000 } = {}) {
  const url = new URL(path, baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { accept: 'application/json' };
  if (key) headers[KEY_HEADER] = key;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', (error) => reject(new DependencyError(service, 502, `${service}: ${error.message}`)));
      res.on('end', () => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          reject(new DependencyError(service, 502, `${service} answered ${status}`));
          return;
        }
        let parsed;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          reject(new DependencyError(service, 502, `${service} answered something that is not JSON`));
          return;
        }
        resolve({
          status,
          body: parsed,
          version: header(res.headers['x-shop-version']),
          revision: header(res.headers['x-augur-revision']),
        });
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new DependencyError(service, 504, `${service} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(
        error instanceof DependencyError
          ? error
          : new DependencyError(service, 502, `${service}: ${error.message}`),
      );
    });
    req.end(payload);
  });
}

function header(value) {
  return Array.isArray(value) ? value[0] : value;
}
