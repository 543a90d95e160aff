import { loadConfiguration } from '../config/index.js';
import { formatIssues } from '../config/issues.js';
import type { DeploymentConfiguration } from '../config/types.js';
import { AugurError } from '../core/errors.js';

/** Thrown when configuration files do not validate; main prints the issues and exits with 2. */
export class ConfigInvalidError extends AugurError {
  readonly report: string;
  constructor(report: string, count: number) {
    super('CONFIG_INVALID', `${count} configuration error${count === 1 ? '' : 's'}`);
    this.report = report;
  }
}

/** Loads and validates configuration files for a command, or throws ConfigInvalidError. */
export async function loadFiles(
  files: readonly string[],
  options: { checkPorts?: boolean } = {},
): Promise<DeploymentConfiguration> {
  const result = await loadConfiguration([...files], { checkPorts: options.checkPorts ?? false });
  if (!result.ok) throw new ConfigInvalidError(formatIssues(result.error), result.error.length);
  return result.value;
}
