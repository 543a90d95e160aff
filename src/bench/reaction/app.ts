import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatIssues, loadConfiguration } from '../../config/index.js';
import type { ApplicationConfig, ReleaseConfig } from '../../config/index.js';
import { freePort } from '../../runtime/process/ports.js';
import { echoApplicationYaml, echoReleaseYaml } from '../../testing/echo-app.js';

/** Where the echo fixture lives, from the package root (the benchmark runs from there). */
const ECHO = resolve('test/fixtures/services/echo.js');

/** Canary share while it is watched; the bake outlasts any trial, so it stays there. */
export const CANARY_PERCENT = 10;
/** A short monitoring interval: the controller looks five times a second. */
export const INTERVAL = '200ms';

/**
 * One echo service on a free port (stable v1, canary v2, both the echo fixture, whose canary can be
 * switched to fail every request), and a release template that holds the canary at 10%.
 */
export async function echoApplication(
  dir: string,
): Promise<{ app: ApplicationConfig; release: ReleaseConfig }> {
  const port = await freePort();
  const stateDir = join(dir, 'state');
  const file = join(dir, 'echo.yaml');
  writeFileSync(
    file,
    `${echoApplicationYaml({ stateDir, port, script: ECHO })}---\n${echoReleaseYaml({
      name: 'reaction',
      env: '',
      script: ECHO,
      tiers: `[${CANARY_PERCENT}, 100]`,
      bake: '{ minDuration: 1h, minRequests: 0 }',
      monitoring: `{ interval: ${INTERVAL}, warningInterval: ${INTERVAL} }`,
    })}`,
  );
  const loaded = await loadConfiguration([file], { cwd: dir });
  if (!loaded.ok) throw new Error(`bench configuration is invalid:\n${formatIssues(loaded.error, dir)}`);
  const release = loaded.value.releases[0];
  if (release === undefined) throw new Error('bench configuration declares no release');
  return { app: loaded.value.application, release };
}
