/**
 * Argument checks shared by the tests. A bad count or level is a bug in the caller (a metrics
 * adapter that lost a window, a budget split gone wrong), and silently clamping it would hide it, so
 * these throw RangeError instead of returning a verdict.
 */

export function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`);
}

/**
 * Counts are accepted as reals because a provider's increase() over a window is fractional; the
 * guarantee is stated for whole counts, so adapters should round them.
 */
export function checkCount(value: number, name: string): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`${name} must be a finite number ≥ 0 (got ${value})`);
  }
}

export function checkProbability(value: number, name: string): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in [0, 1] (got ${value})`);
}
