/**
 * The one-service "echo" application (test/fixtures/services/echo.js) that end-to-end tests and the
 * reaction benchmark run, as YAML documents: one definition, so they all test the same thing.
 */

export interface EchoApplication {
  readonly stateDir: string;
  readonly port: number;
  /** The echo fixture's path in commands (relative to where Augur runs, or absolute). */
  readonly script?: string;
  /** More services, as YAML lines indented under `services:`. */
  readonly extraServices?: string;
}

export interface EchoRelease {
  readonly name: string;
  /** Environment of the canary revision v2, as a YAML flow mapping's content (e.g. `VERSION: v2`). */
  readonly env?: string;
  readonly script?: string;
  readonly tiers?: string;
  readonly bake?: string;
  readonly monitoring?: string;
  /** More `spec` lines, indented by two spaces. */
  readonly extra?: string;
}

export const ECHO_SCRIPT = 'test/fixtures/services/echo.js';

export function echoApplicationYaml(o: EchoApplication): string {
  const script = o.script ?? ECHO_SCRIPT;
  return `apiVersion: augur/v1alpha1
kind: Application
metadata: { name: echo }
spec:
  entrypoint: echo
  stateDir: ${o.stateDir}
  store: { url: "sqlite:${o.stateDir}/augur.db" }
  services:
    echo:
      port: ${o.port}
      stable: v1
      healthPath: /
      revisions:
        v1: { command: [node, ${script}] }
      limits: { errorRate: 0.05 }
${o.extraServices ?? ''}`;
}

/** A Release of the echo service to revision v2, declared with the fixture's command. */
export function echoReleaseYaml(r: EchoRelease): string {
  const lines = [
    'apiVersion: augur/v1alpha1',
    'kind: Release',
    `metadata: { name: ${r.name} }`,
    'spec:',
    '  application: echo',
    '  changes:',
    `    - { service: echo, revision: v2, command: [node, ${r.script ?? ECHO_SCRIPT}], env: { ${r.env ?? 'VERSION: v2'} } }`,
    ...(r.tiers !== undefined ? [`  tiers: ${r.tiers}`] : []),
    ...(r.bake !== undefined ? [`  bake: ${r.bake}`] : []),
    ...(r.monitoring !== undefined ? [`  monitoring: ${r.monitoring}`] : []),
  ];
  return `${lines.join('\n')}\n${r.extra ?? ''}`;
}
