import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { checkPortsFree, loadConfiguration } from '../config/index.js';
import { formatIssues } from '../config/issues.js';
import type { DeploymentConfiguration } from '../config/types.js';
import { AugurError } from '../core/errors.js';
import { plural } from '../core/plural.js';
import { lockHolder, stateLocked } from '../runtime/process/state-lock.js';

/** Thrown when configuration files do not validate; main prints the issues and exits with 2. */
export class ConfigInvalidError extends AugurError {
  readonly report: string;
  constructor(report: string, count: number) {
    super('CONFIG_INVALID', plural(count, 'configuration error'));
    this.report = report;
  }
}

/**
 * Loads and validates configuration files for a command, or throws ConfigInvalidError. `serve`:
 * for a command about to run the application (`up`, `server`, `rollout --embedded`): before its
 * ports are probed, a state directory that another live Augur holds is refused (STATE_LOCKED), so
 * that a second run in the same directory says so instead of listing the first one's ports as taken;
 * the ports are probed only once the files are valid.
 */
export async function loadFiles(
  files: readonly string[],
  options: { serve?: boolean } = {},
): Promise<DeploymentConfiguration> {
  const result = await loadConfiguration([...files], { checkPorts: false });
  if (!result.ok) throw new ConfigInvalidError(formatIssues(result.error), result.error.length);
  if (options.serve === true) {
    const holder = lockHolder(result.value.application.stateDir);
    if (holder !== null) throw stateLocked(holder, result.value.application.stateDir);
    const taken = await checkPortsFree(result.value);
    if (taken.length > 0) throw new ConfigInvalidError(formatIssues(taken), taken.length);
  }
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
