import { AugurError } from '../core/errors.js';
import { readServer } from '../server/local-access.js';

/** Calls the control API of the Augur running for a state directory. */
export async function callServer<T>(
  stateDir: string,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
): Promise<T> {
  const { info, token } = readServer(stateDir);
  let response: Response;
  try {
    response = await fetch(`${info.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new AugurError(
      'NOT_RUNNING',
      `the Augur recorded in ${stateDir} (PID ${info.pid}, ${info.url}) does not answer: ${(error as Error).message}`,
    );
  }
  const payload = (await response.json()) as T & { error?: string; code?: string };
  if (!response.ok)
    throw new AugurError(payload.code ?? `HTTP_${response.status}`, payload.error ?? response.statusText);
  return payload;
}
