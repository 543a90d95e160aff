import { isIPv4, isIPv6 } from 'node:net';

/**
 * True for names that can only mean this machine: `localhost`, 127.0.0.0/8 and ::1. What the load
 * generator may send to, where the API's loopback checks apply, which server records a client trusts.
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
