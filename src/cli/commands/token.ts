import { existsSync } from 'node:fs';
import { AugurError } from '../../core/errors.js';
import { createToken, isRole, ROLES } from '../../server/tokens.js';
import { openStore, storeFile } from '../../store/open.js';
import type { Store } from '../../store/store.js';
import type { Command, CommandContext } from '../command.js';
import { EXIT, flag, stringOption, UsageError } from '../command.js';
import { loadFiles } from '../config-files.js';
import { table } from '../format.js';

const when = (ms: number | null): string =>
  ms === null ? 'never' : new Date(ms).toISOString().slice(0, 19) + 'Z';

/**
 * Runs `work` on the store of the application in `files`. The store's path resolves from the
 * directory Augur runs in, so a command run elsewhere would find no store: `create` makes one and
 * says where (a server started elsewhere will not see the token); the others report it missing.
 */
async function withStore<T>(
  ctx: CommandContext,
  files: readonly string[],
  creates: boolean,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const config = await loadFiles(files);
  const url = config.application.store.url;
  const path = storeFile(url);
  if (path !== null && !existsSync(path)) {
    if (!creates)
      throw new AugurError('NO_STORE', `no store at ${path}: run this where the application runs`);
    ctx.io.err(
      `note: no store at ${path} yet: created it; a server must run from ${process.cwd()} to use it\n`,
    );
  }
  // The store allows a second connection beside a running server (WAL): no need to stop it.
  const store = openStore(url);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function create(ctx: CommandContext, files: readonly string[]): Promise<number> {
  const role = stringOption(ctx, 'role');
  if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const name = stringOption(ctx, 'name');
  if (name !== undefined && !/^[\w.@-]{1,64}$/.test(name))
    throw new UsageError('--name is 1 to 64 letters, digits, ".", "_", "-" or "@"');
  const { token, record } = await withStore(ctx, files, true, (store) =>
    createToken(store, role, name, Date.now()),
  );
  if (flag(ctx, 'json')) {
    const { hash: _hash, ...shown } = record;
    ctx.io.out(`${JSON.stringify({ ...shown, token })}\n`);
  } else {
    ctx.io.err(`created ${record.role} token ${record.id} (${record.name}); it is shown only this once:\n`);
    ctx.io.out(`${token}\n`);
  }
  return EXIT.ok;
}

async function list(ctx: CommandContext, files: readonly string[]): Promise<number> {
  const tokens = await withStore(ctx, files, false, (store) => store.listTokens());
  const shown = tokens.map(({ hash: _hash, ...rest }) => rest);
  if (flag(ctx, 'json')) ctx.io.out(`${JSON.stringify(shown, null, 2)}\n`);
  else if (shown.length === 0) ctx.io.out('no tokens (create one with `augur token create --role R FILE`)\n');
  else
    ctx.io.out(
      table(
        ['id', 'name', 'role', 'created', 'last used'],
        shown.map((t) => [t.id, t.name, t.role, when(t.createdAt), when(t.lastUsedAt)]),
      ),
    );
  return EXIT.ok;
}

async function revoke(ctx: CommandContext, id: string, files: readonly string[]): Promise<number> {
  const removed = await withStore(ctx, files, false, (store) => store.revokeToken(id));
  if (flag(ctx, 'json')) ctx.io.out(`${JSON.stringify({ id, revoked: removed })}\n`);
  else ctx.io.out(removed ? `revoked token ${id}\n` : `no token ${id}\n`);
  return removed ? EXIT.ok : EXIT.failure;
}

export const token: Command = {
  name: 'token',
  summary: 'Create, list or revoke API tokens (roles viewer, operator, admin).',
  usage: 'create --role viewer|operator|admin [--name N] FILE… | list FILE… | revoke ID FILE…  [--json]',
  description:
    'Tokens live in the store of the Application in FILE…, as SHA-256 hashes only: `create` prints the\n' +
    'secret once (augur_ + 32 random bytes, base64url) on stdout, so that `T=$(augur token create …)`\n' +
    'captures it. Roles: viewer reads; operator also submits releases and pauses, resumes, promotes,\n' +
    'aborts or rolls them back; admin may also set traffic by hand. A running server sees new and\n' +
    'revoked tokens at once.',
  options: {
    role: { type: 'string', value: 'ROLE', description: 'create: viewer, operator or admin' },
    name: { type: 'string', value: 'N', description: 'create: a name for the audit log (default ROLE-ID)' },
    json: { type: 'boolean', description: 'machine-readable output' },
  },
  positionals: { min: 2, max: Infinity, name: 'create|list|revoke, then FILE…' },
  examples: [
    'augur token create --role operator --name ci examples/shop/augur.yaml',
    'export AUGUR_TOKEN=$(augur token create --role viewer examples/shop/augur.yaml)',
    'augur token list examples/shop/augur.yaml',
    'augur token revoke 3f9c2a71d0e4 examples/shop/augur.yaml',
  ],
  async run(ctx) {
    const [action, ...rest] = ctx.positionals;
    if (action === 'create') return create(ctx, rest);
    if (action === 'list') return list(ctx, rest);
    if (action === 'revoke') {
      const [id, ...files] = rest;
      if (id === undefined || files.length === 0) throw new UsageError('revoke needs the token id and FILE…');
      return revoke(ctx, id, files);
    }
    throw new UsageError(`unknown action "${action ?? ''}": the actions are create, list and revoke`);
  },
};
