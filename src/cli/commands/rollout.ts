import type { ReleasePhase } from '../../controller/core/types.js';
import { AugurError } from '../../core/errors.js';
import type { Command, CommandContext } from '../command.js';
import { EXIT, flag, UsageError } from '../command.js';
import { loadFiles } from '../config-files.js';
import { OUTCOME_EXIT } from '../outcome.js';
import { releaseEventLine } from '../release-events.js';
import { REMOTE_HELP, REMOTE_OPTIONS } from '../remote.js';
import { rolloutRemote } from '../rollout-remote.js';
import { serve } from '../serve.js';
import { releaseView } from '../../server/release-view.js';

/** Runs the data plane and the controller in this process until every release has ended. */
async function embedded(ctx: CommandContext): Promise<number> {
  const config = await loadFiles(ctx.positionals, { serve: true });
  if (config.releases.length === 0) throw new UsageError('the files declare no Release');
  // They run side by side: two changing one service would fight over its canary weight.
  const changedBy = new Map<string, string>();
  for (const release of config.releases) {
    for (const { service } of release.changes) {
      const other = changedBy.get(service);
      if (other !== undefined && other !== release.name)
        throw new UsageError(
          `releases ${other} and ${release.name} both change ${service}: roll them out one after the other`,
        );
      changedBy.set(service, release.name);
    }
  }
  const serving = await serve(config.application, ctx.io, {
    quiet: true,
    runReleases: true,
    releases: config.releases,
    onReleaseEvent: (event) => {
      const line = releaseEventLine(event);
      if (line !== null && !flag(ctx, 'json')) ctx.io.err(`${line}\n`);
    },
  });
  const controller = serving.controller;
  try {
    if (controller === null) throw new AugurError('NO_CONTROLLER', 'the controller did not start');
    for (const name of serving.resumed) ctx.io.err(`resumed release ${name}\n`);
    ctx.io.err(`dashboard ${serving.apiUrl}/ (the releases live, while this runs)\n`);
    const ended = new Map<string, ReleasePhase>();
    for (const release of config.releases) {
      if (serving.resumed.includes(release.name)) continue;
      const existing = await serving.plane.store.getRelease(release.name);
      if (existing !== null) {
        ctx.io.err(`release ${release.name} already ended (${existing.phase})\n`);
        ended.set(release.name, existing.phase as ReleasePhase);
        continue;
      }
      await controller.submit(release);
    }
    const names = config.releases.map((r) => r.name).filter((n) => controller.state(n) !== null);
    const aborted = new Promise<'interrupted'>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve('interrupted')),
    );
    const outcomes = await Promise.race([Promise.all(names.map((n) => controller.wait(n))), aborted]);
    if (outcomes === 'interrupted') {
      ctx.io.err('interrupted: the releases stay where they are and resume with the next run\n');
      return EXIT.interrupted;
    }
    const all: [string, ReleasePhase][] = [
      ...ended,
      ...names.map((n, i): [string, ReleasePhase] => [n, outcomes[i] ?? 'running']),
    ];
    if (flag(ctx, 'json')) {
      // The same views as `augur rollout --server … --json` prints: every release of the files.
      const records = await Promise.all(config.releases.map((r) => serving.plane.store.getRelease(r.name)));
      const views = records.filter((r) => r !== null).map(releaseView);
      ctx.io.out(`${JSON.stringify(views, null, 2)}\n`);
    } else for (const [name, outcome] of all) ctx.io.out(`${name}: ${outcome}\n`);
    return Math.max(EXIT.ok, ...all.map(([, o]) => OUTCOME_EXIT[o]));
  } finally {
    await serving.stop();
  }
}

export const rollout: Command = {
  name: 'rollout',
  summary: 'Roll a release out through its canary tiers, deciding GREEN / YELLOW / RED at every tick.',
  usage: 'FILE… [--server URL] [--token T] [-f FILE] [--detach] [--json] | FILE… --embedded [--json]',
  description:
    'Submits every Release in FILE… to a running `augur server` and follows its events until it ends.\n' +
    'A release that exists already is followed (or reported, when it has ended). With --detach, returns\n' +
    'once submitted. A change that declares `command` must repeat a revision of the server’s own files.\n' +
    'With --embedded, starts the application’s data plane and the controller in this process instead\n' +
    '(FILE… must include the Application), runs every release to its end, and stops. A release that a\n' +
    'killed run left unfinished is resumed at the tier and weights it had.\n' +
    'Exit codes: 0 promoted, 3 rolled back, 4 aborted, 5 mixed (some services promoted, others rolled\n' +
    'back), 1 failure, 2 invalid files, 130 interrupted (the release goes on where it runs).\n\n' +
    REMOTE_HELP,
  options: {
    embedded: { type: 'boolean', description: 'run the data plane and the controller in this process' },
    ...REMOTE_OPTIONS,
    detach: { type: 'boolean', description: 'submit, print the release, and return at once' },
    json: { type: 'boolean', description: 'print the final states as JSON' },
  },
  positionals: { min: 1, max: Infinity, name: 'FILE' },
  examples: [
    'augur rollout examples/shop/releases/cart-v2.yaml --server http://127.0.0.1:7070   # AUGUR_TOKEN set',
    'augur rollout examples/shop/augur.yaml examples/shop/releases/cart-v2.yaml   # the local server',
    'augur rollout --embedded examples/shop/augur.yaml examples/shop/releases/cart-v2.yaml',
  ],
  async run(ctx) {
    if (flag(ctx, 'embedded')) {
      if (
        ctx.values['server'] !== undefined ||
        ctx.values['detach'] === true ||
        ctx.values['token'] !== undefined ||
        ctx.values['file'] !== undefined
      ) {
        throw new UsageError('--embedded runs here: it takes none of --server, --token, -f and --detach');
      }
      return embedded(ctx);
    }
    return rolloutRemote(ctx);
  },
};
