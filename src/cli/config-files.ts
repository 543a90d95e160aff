import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/** Names an application file is looked for under, beside a release file and above it. */
const APPLICATION_FILES = ['augur.yaml', 'augur.yml'];

/**
 * Like loadFiles, but when the files hold releases and no Application, the application is looked
 * for as `augur.yaml` in the first file's directory and each directory above it (up to the file
 * system's root); `found` says which file was used.
 */
export async function loadFilesFindingApplication(
  files: readonly string[],
): Promise<{ config: DeploymentConfiguration; found: string | null }> {
  const first = await loadConfiguration([...files], { checkPorts: false });
  if (first.ok) return { config: first.value, found: null };
  const missing = first.error.some((issue) => issue.code === 'missing_application');
  const start = files[0];
  if (missing && start !== undefined) {
    let dir = dirname(resolve(start));
    for (;;) {
      const candidate = APPLICATION_FILES.map((name) => join(dir, name)).find((file) => existsSync(file));
      if (candidate !== undefined) {
        const retried = await loadConfiguration([candidate, ...files], { checkPorts: false });
        if (!retried.ok) throw new ConfigInvalidError(formatIssues(retried.error), retried.error.length);
        return { config: retried.value, found: candidate };
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new ConfigInvalidError(formatIssues(first.error), first.error.length);
}
