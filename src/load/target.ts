import { AugurError } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback.js';

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
