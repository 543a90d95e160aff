/** Calls to the Augur API from the page: same origin, JSON, the bearer token when there is one. */

export class ApiError extends Error {
  /**
   * @param {number} status 0 when the server could not be reached
   * @param {string} code the API's stable error code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {() => string | null} token the token to send, read at every call
 */
export function createApi(token) {
  /** @returns {Record<string, string>} */
  const auth = () => {
    const value = token();
    return value === null ? {} : { authorization: `Bearer ${value}` };
  };

  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   */
  const request = async (method, path, body) => {
    const headers = { accept: 'application/json', ...auth() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        cache: 'no-store',
        credentials: 'omit',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'UNREACHABLE', 'the Augur server cannot be reached');
    }
    const json = (response.headers.get('content-type') ?? '').startsWith('application/json');
    const payload = json ? await response.json().catch(() => null) : null;
    if (!response.ok) {
      const code = typeof payload?.code === 'string' ? payload.code : `HTTP_${response.status}`;
      const message = typeof payload?.error === 'string' ? payload.error : `HTTP ${response.status}`;
      throw new ApiError(response.status, code, message);
    }
    return payload;
  };

  return {
    auth,
    /** @param {string} path */
    get: (path) => request('GET', path),
    /**
     * @param {string} path
     * @param {unknown} body
     */
    post: (path, body) => request('POST', path, body),
  };
}
