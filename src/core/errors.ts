/** Errors that cross a module boundary carry a stable code, so callers and tests match on it. */
export class AugurError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AugurError';
    this.code = code;
  }
}
