/** Configuration: YAML Application and Release documents → `DeploymentConfiguration`. */
export { loadConfiguration, type LoadOptions } from './load.js';
export { checkPortsFree } from './ports.js';
export {
  formatIssues,
  formatPath,
  type ConfigIssue,
  type ConfigIssueCode,
  type IssuePath,
} from './issues.js';
export { parseDuration, formatDuration } from './duration.js';
export { tierProblems, isWholeBasisPoint } from './tiers.js';
export { API_VERSION } from './schema.js';
export type * from './types.js';
export { FULL_WEIGHT, percentToBasisPoints } from './types.js';
