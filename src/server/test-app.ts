import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfiguration } from '../config/index.js';
import type { DeploymentConfiguration } from '../config/types.js';
import { ECHO_SCRIPT, echoApplicationYaml, echoReleaseYaml } from '../testing/echo-app.js';

/** The repository root: the echo fixture's command is relative to it. */
export const repoRoot = resolve(import.meta.dirname, '..', '..');

/**
 * For tests of the server: a one-service application running the echo fixture, with its state in
 * `dir`, and a Release file declaring revision v2 (and a mitigation) the API may then accept.
 */
export async function echoConfiguration(dir: string): Promise<DeploymentConfiguration> {
  const stateDir = join(dir, 'state');
  const file = join(dir, 'echo.yaml');
  const other = `    other:
      port: 2
      stable: v1
      healthPath: /
      revisions:
        v1: { command: [node, ${ECHO_SCRIPT}] }
        v2: { command: [node, ${ECHO_SCRIPT}], env: { VERSION: v2 } }
`;
  const mitigation = `  mitigations:
    - { name: verify, check: { command: [node, -e, "process.exit(0)"] } }
`;
  writeFileSync(
    file,
    `${echoApplicationYaml({ stateDir, port: 1, extraServices: other })}---\n${echoReleaseYaml({
      name: 'declared',
      extra: mitigation,
    })}`,
  );
  const loaded = await loadConfiguration([file], { cwd: repoRoot });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error, null, 2));
  return loaded.value;
}

/** A Release posted to the API, as JSON; `spec` fields override the defaults. */
export function releaseBody(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'augur/v1alpha1',
    kind: 'Release',
    metadata: { name },
    spec: {
      application: 'echo',
      changes: [{ service: 'echo', revision: 'v2' }],
      tiers: [10, 100],
      bake: { minDuration: '1s', minRequests: 5 },
      monitoring: { interval: '300ms' },
      ...spec,
    },
  };
}
