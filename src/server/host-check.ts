import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../core/loopback.js';
import { HttpError } from './http.js';

/** The host name of a Host header: `name[:port]` or `[v6][:port]`. */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function loopbackOrigin(origin: string): boolean {
  try {
    return isLoopbackHost(new URL(origin).hostname);
  } catch {
    // `null` (a sandboxed page, a file) and anything else that is no URL.
    return false;
  }
}

/**
 * For an API bound to loopback: a request must name a loopback host, and a browser's request must
 * come from a loopback page. A web page elsewhere can make the browser send requests here: through
 * a name it re-points at 127.0.0.1 (DNS rebinding, the Host header still names the page's site) or
 * directly (the Origin header names the page). Without this, reads left open on loopback would be
 * open to any site the user visits.
 */
export function refuseForeignCaller(req: IncomingMessage): void {
  const host = req.headers.host;
  if (host !== undefined && !isLoopbackHost(hostName(host))) {
    throw new HttpError(
      421,
      'MISDIRECTED_REQUEST',
      'this API answers only requests addressed to 127.0.0.1, localhost or [::1]',
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !loopbackOrigin(origin)) {
    throw new HttpError(403, 'ORIGIN_NOT_ALLOWED', 'requests from web pages of other hosts are refused');
  }
}
