import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfiguration } from '../config/index.js';
import type { DeploymentConfiguration } from '../config/types.js';

/** The repository root: the echo fixture's command is relative to it. */
export const repoRoot = resolve(import.meta.dirname, '..', '..');

/**
 * For tests of the server: a one-service application running the echo fixture, with its state in
 * `dir`, and a Release file declaring revision v2 (and a mitigation) the API may then accept.
 */
export async function echoConfiguration(dir: string): Promise<DeploymentConfiguration> {
  const stateDir = join(dir, 'state');
  const file = join(dir, 'echo.yaml');
  writeFileSync(
    file,
    `apiVersion: augur/v1alpha1
kind: Application
metadata: { name: echo }
spec:
  entrypoint: echo
  stateDir: ${stateDir}
  store: { url: "sqlite:${stateDir}/augur.db" }
  services:
    echo:
      port: 1
      stable: v1
      healthPath: /
      revisions:
        v1: { command: [node, test/fixtures/services/echo.js] }
      limits: { errorRate: 0.05 }
    other:
      port: 2
      stable: v1
      healthPath: /
      revisions:
        v1: { command: [node, test/fixtures/services/echo.js] }
        v2: { command: [node, test/fixtures/services/echo.js], env: { VERSION: v2 } }
---
apiVersion: augur/v1alpha1
kind: Release
metadata: { name: declared }
spec:
  application: echo
  changes:
    - { service: echo, revision: v2, command: [node, test/fixtures/services/echo.js], env: { VERSION: v2 } }
  mitigations:
    - { name: verify, check: { command: [node, -e, "process.exit(0)"] } }
`,
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
