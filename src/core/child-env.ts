/**
 * Where the CLI finds its server and its bearer token. An operator who starts Augur from a shell
 * holding them must not hand them to every service and mitigation command Augur starts: those
 * would then act on the API with the operator's role.
 */
const CLIENT_VARIABLES: readonly string[] = ['AUGUR_TOKEN', 'AUGUR_SERVER'];

/** The environment a child process inherits: `env` (this process's), without the CLI's credentials. */
export function inheritedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of CLIENT_VARIABLES) delete copy[name];
  return copy;
}
