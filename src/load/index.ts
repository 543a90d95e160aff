export type { LoadProfile, ProfileKind } from './profile.js';
export { nextArrivalMs, peakRate, rateAt } from './profile.js';
export type { LatencySummary } from './reservoir.js';
export type { LoadHooks, RunLoadOptions, LoadReport, LoadSnapshot, LoadStopReason } from './run-load.js';
export { profileOf, REVISION_HEADER, runLoad } from './run-load.js';
export { isLoopbackHost } from '../core/loopback.js';
export { loopbackTarget } from './target.js';
