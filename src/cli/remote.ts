import type { CommandContext, OptionSpec } from './command.js';
import { stringOption } from './command.js';
import { ApiClient, cleartextTokenWarning, resolveTarget } from './client.js';
import { loadFiles } from './config-files.js';

/** The flags of every command that talks to a running Augur. */
export const REMOTE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  server: {
    type: 'string',
    value: 'URL',
    description: 'API of a running Augur (else $AUGUR_SERVER, the configuration file, the local one)',
  },
  token: {
    type: 'string',
    value: 'TOKEN',
    description: 'bearer token (else $AUGUR_TOKEN, the configuration file, the local admin token)',
  },
  file: {
    type: 'string',
    short: 'f',
    value: 'FILE',
    description: 'Application file: find the local Augur through its state directory',
  },
};

/** How a command finds its server, for --help. */
export const REMOTE_HELP =
  'The server is --server URL, else $AUGUR_SERVER, else the `augur server`/`augur up` running for\n' +
  'the Application given with -f FILE (through <state>/server.json), else `server:` in the CLI\n' +
  'configuration file ($AUGUR_CONFIG, else ~/.config/augur/config.yaml), else the Augur running for\n' +
  './.augur. The token is --token, else $AUGUR_TOKEN, else `token:` in the configuration file (sent\n' +
  "only to the configuration's server; the file must be mode 600), else — for a local Augur only —\n" +
  'its admin token (<state>/admin.token). A token from --token or $AUGUR_TOKEN goes to the\n' +
  "configuration's server only when the file is the user's own and nobody else may write it (exit 2\n" +
  'otherwise, nothing sent). Prefer $AUGUR_TOKEN or the file to --token: command lines are visible to\n' +
  'other users of the machine. A token sent over plain http to a host other than loopback draws a\n' +
  'warning: put a remote server behind https.';

/**
 * The client for a command: `applicationFiles` are files holding the Application, used to find
 * a local Augur when neither --server nor $AUGUR_SERVER is given (-f FILE takes precedence).
 */
export async function clientFor(
  ctx: CommandContext,
  applicationFiles: readonly string[] = [],
): Promise<ApiClient> {
  const server = stringOption(ctx, 'server');
  const token = stringOption(ctx, 'token');
  const remote = server !== undefined || (process.env['AUGUR_SERVER'] ?? '') !== '';
  const file = stringOption(ctx, 'file');
  const files = file !== undefined ? [file] : applicationFiles;
  let stateDir: string | undefined;
  if (!remote && files.length > 0) stateDir = (await loadFiles(files)).application.stateDir;
  const target = resolveTarget({ server, token, stateDir });
  const warning = cleartextTokenWarning(target);
  if (warning !== null) ctx.io.err(warning);
  return new ApiClient(target);
}
