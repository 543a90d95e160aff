import { RolloutController } from '../../controller/controller.js';
import { systemClock } from '../../core/clock.js';
import { AugurError } from '../../core/errors.js';
import type { ReleasePhase } from '../../controller/core/types.js';
import { sequentialAnalysis } from '../../controller/analysis/sequential.js';
import { StableBaselineSource } from '../../controller/predicted/source.js';
import type { Command } from '../command.js';
import { EXIT, flag, stringOption, UsageError } from '../command.js';
import { loadFiles } from '../config-files.js';
import { releaseEventLine } from '../release-events.js';
import { serve } from '../serve.js';

/** Exit codes of `rollout`, documented in its help. */
const OUTCOME_EXIT: Record<ReleasePhase, number> = {
  promoted: 0,
  'rolled-back': 3,
  aborted: 4,
  mixed: 5,
  running: 1,
};

export const rollout: Command = {
  name: 'rollout',
  summary: 'Roll a release out through its canary tiers, deciding GREEN / YELLOW / RED at every tick.',
  usage: 'FILE… --embedded [--json]',
  description:
    "With --embedded, starts the application's data plane in this process (as `augur up` does), runs\n" +
    'every release in the files to its end, and exits with its outcome: 0 promoted, 3 rolled back,\n' +
    '4 aborted, 5 mixed (some services promoted, others rolled back). A release that a killed run\n' +
    'left unfinished is resumed at the tier and weights it had. Submitting to a running server\n' +
    '(--server URL) is not available yet.',
  options: {
    embedded: { type: 'boolean', description: 'run the data plane and the controller in this process' },
    server: {
      type: 'string',
      value: 'URL',
      description: 'submit to a running Augur server (not available yet)',
    },
    json: { type: 'boolean', description: 'print the final states as JSON' },
  },
  positionals: { min: 1, max: Infinity, name: 'FILE' },
  examples: ['augur rollout --embedded examples/shop/augur.yaml examples/shop/releases/cart-v2.yaml'],
  async run(ctx) {
    if (stringOption(ctx, 'server') !== undefined) {
      throw new AugurError('NOT_AVAILABLE', 'submitting to a server is not available yet: use --embedded');
    }
    if (!flag(ctx, 'embedded'))
      throw new UsageError('--embedded is required (server mode is not available yet)');
    const config = await loadFiles(ctx.positionals, { checkPorts: true });
    if (config.releases.length === 0) throw new UsageError('the files declare no Release');
    const serving = await serve(config.application, ctx.io, { quiet: true });
    const controller = new RolloutController({
      store: serving.plane.store,
      plane: serving.plane,
      analysis: (release) => sequentialAnalysis(config.application, release),
      prediction: new StableBaselineSource(serving.plane.provider),
      clock: systemClock,
      onEvent: (event) => {
        const line = releaseEventLine(event);
        if (line !== null && !flag(ctx, 'json')) ctx.io.err(`${line}\n`);
      },
    });
    try {
      const resumed = await controller.resume();
      for (const name of resumed) ctx.io.err(`resumed release ${name}\n`);
      const ended = new Map<string, ReleasePhase>();
      for (const release of config.releases) {
        if (resumed.includes(release.name)) continue;
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
      const states = names.map((n) => controller.state(n));
      const all: [string, ReleasePhase][] = [
        ...ended,
        ...names.map((n, i): [string, ReleasePhase] => [n, outcomes[i] ?? 'running']),
      ];
      if (flag(ctx, 'json')) ctx.io.out(`${JSON.stringify(states, null, 2)}\n`);
      else for (const [name, outcome] of all) ctx.io.out(`${name}: ${outcome}\n`);
      return Math.max(EXIT.ok, ...all.map(([, o]) => OUTCOME_EXIT[o]));
    } finally {
      await controller.close();
      await serving.stop();
    }
  },
};
