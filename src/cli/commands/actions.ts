import type { Command } from '../command.js';
import { EXIT, flag, stringOption } from '../command.js';
import { releaseShape } from '../api-shapes.js';
import { releaseLine } from '../release-table.js';
import { clientFor, REMOTE_HELP, REMOTE_OPTIONS } from '../remote.js';

type Action = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback';

function actionCommand(action: Action, summary: string, scoped: boolean): Command {
  return {
    name: action,
    summary,
    usage: `RELEASE${scoped ? ' [--service S]' : ''} [--server URL] [--token T] [-f FILE] [--json]`,
    description:
      'Needs the operator role. Exit code 0 when done, 1 when refused\n' +
      '(e.g. 409: the release has ended, or no service is in a state the action applies to).\n\n' +
      REMOTE_HELP,
    options: {
      ...(scoped
        ? { service: { type: 'string', value: 'S', description: 'only this changed service' } as const }
        : {}),
      ...REMOTE_OPTIONS,
      json: { type: 'boolean', description: 'print the release after the action as JSON' },
    },
    positionals: { min: 1, max: 1, name: 'RELEASE' },
    examples: [
      `augur ${action} cart-v2 -f examples/shop/augur.yaml`,
      `AUGUR_TOKEN=… augur ${action} cart-v2${scoped ? ' --service cart' : ''} --server http://127.0.0.1:7070`,
    ],
    async run(ctx) {
      const name = ctx.positionals[0] ?? '';
      const service = scoped ? stringOption(ctx, 'service') : undefined;
      const client = await clientFor(ctx);
      const view = await client.request(
        'POST',
        `/api/v1/releases/${encodeURIComponent(name)}/actions`,
        service === undefined ? { action } : { action, service },
        { shape: releaseShape },
      );
      ctx.io.out(flag(ctx, 'json') ? `${JSON.stringify(view, null, 2)}\n` : `${releaseLine(view)}\n`);
      return EXIT.ok;
    },
  };
}

export const pause = actionCommand(
  'pause',
  'Pause a running release at its current tier (no automatic resume).',
  true,
);
export const resume = actionCommand(
  'resume',
  'Resume a paused (or YELLOW) release, or accept the risk predicted before it.',
  true,
);
export const promote = actionCommand(
  'promote',
  'Promote a release now: its canaries become the stable revisions.',
  true,
);
export const abort = actionCommand('abort', 'Abort a release: every canary is rolled back.', false);
export const rollback = actionCommand(
  'rollback',
  'Roll a release back (one service with --service, the others continue).',
  true,
);
