/**
 * Where the CLI finds its server and its bearer token: the variables themselves, and
 * AUGUR_CONFIG, which names a configuration file that may hold a token. An operator who starts
 * Augur from a shell holding them must not hand them to every service and mitigation command Augur
 * starts: those would then act on the API with the operator's role.
 */
const CLIENT_VARIABLES: readonly string[] = ['AUGUR_TOKEN', 'AUGUR_SERVER', 'AUGUR_CONFIG'];

/** The environment a child process inherits: `env` (this process's), without the CLI's credentials. */
export function inheritedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of CLIENT_VARIABLES) delete copy[name];
  return copy;
}
