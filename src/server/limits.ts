/** Bounds that keep one slow or greedy client from holding the API's resources. */
export interface ApiLimits {
  /** Longest time to receive a request's head. */
  readonly headersTimeoutMs: number;
  /**
   * Longest time to receive a whole request, head and body. It bounds receiving only: a response
   * may last longer, as an event stream does.
   */
  readonly requestTimeoutMs: number;
  /** How often those two are enforced. */
  readonly timeoutCheckMs: number;
  /** Event streams open at once, every client together; more are refused with 503. */
  readonly maxStreams: number;
  /** How often an open event stream's token is checked again: a revoked token's stream ends. */
  readonly streamAuthCheckMs: number;
}

export const API_LIMITS: ApiLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 30_000,
  timeoutCheckMs: 5_000,
  maxStreams: 64,
  streamAuthCheckMs: 5_000,
};
