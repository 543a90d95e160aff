import { isIPv4, isIPv6 } from 'node:net';
import { AugurError } from '../core/errors.js';

/**
 * True for names that can only mean this machine: `localhost`, 127.0.0.0/8 and ::1. The load
 * generator refuses anything else, so it cannot be pointed at someone else's service.
 */
export function isLoopbackHost(hostname: string): boolean {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Parses the target; throws LOAD_TARGET_INVALID or LOAD_TARGET_NOT_LOOPBACK. */
export function loopbackTarget(target: string): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new AugurError('LOAD_TARGET_INVALID', `the load target "${target}" is not a URL`);
  }
  if (url.protocol !== 'http:') {
    throw new AugurError(
      'LOAD_TARGET_INVALID',
      `the load target must be an http:// URL, got ${url.protocol}`,
    );
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new AugurError(
      'LOAD_TARGET_NOT_LOOPBACK',
      `the load generator only sends to this machine (localhost, 127.0.0.0/8, ::1), not ${url.hostname}`,
    );
  }
  return url;
}
