/** Sandbox profiling of a release's revisions (docs/sandbox.md). */
export { profileRelease } from './profile-release.js';
export type { SandboxOptions, SandboxResult, SandboxStep } from './options.js';
export type { DataCopy, DataPlan } from './data-copies.js';
export { estimateProfile, fitLognormal, ownServiceTime } from './estimate.js';
export type { CalleeFigures, LatencyFigures, RevisionMeasurement, StepFigures } from './estimate.js';
export { reapStaleSandboxes } from './cleanup.js';
