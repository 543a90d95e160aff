/**
 * What the data plane reports about each request. The builtin router calls these; the builtin
 * metrics collector implements them. Kept tiny because it sits on the hot path.
 */
export type RequestOutcome = 'ok' | 'error' | 'timeout' | 'reset';

export interface RequestObserver {
  requestStarted(service: string, revision: string): void;
  /**
   * @param latencyMs time from the router receiving the request to the response's end
   * @param status HTTP status sent to the client (502/504 when the router answered itself)
   * @param outcome 'error' for a 5xx from upstream, 'timeout'/'reset' when the router gave up
   */
  requestEnded(
    service: string,
    revision: string,
    latencyMs: number,
    status: number,
    outcome: RequestOutcome,
  ): void;
}
