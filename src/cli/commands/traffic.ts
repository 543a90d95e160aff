import { didYouMean } from '../../config/suggest.js';
import type { TrafficSplit } from '../../router/router.js';
import type { Command } from '../command.js';
import { EXIT, flag, numberOption, RefusedError, stringOption, UsageError } from '../command.js';
import { ApiError, callServer } from '../client.js';
import { loadFiles } from '../config-files.js';

export const traffic: Command = {
  name: 'traffic',
  summary: 'Set a manual traffic split on a running application (starts the revision if needed).',
  usage: 'FILE… --service S --revision R --weight PCT [--json]',
  description:
    "Sends PCT percent of service S's traffic (steps of 0.01) to revision R, the rest to the stable\n" +
    'revision. Naming the stable revision (or --weight 0) removes the canary. The split is recorded\n' +
    'before it is applied and survives a restart of `augur up`. A service or revision the application\n' +
    'does not have is bad input (exit 2). With --json, prints the split the router applied:\n' +
    '{ "service", "stable", "canary" (null: none), "canaryWeight" (basis points, 0..10000),\n' +
    '"canaryPercent" (the same in percent) }.',
  options: {
    service: { type: 'string', value: 'S', description: 'service to split' },
    revision: { type: 'string', value: 'R', description: 'revision receiving the weight' },
    weight: { type: 'string', value: 'PCT', description: 'percent of traffic, 0..100 in steps of 0.01' },
    json: { type: 'boolean', description: 'machine-readable output' },
  },
  positionals: { min: 1, max: Infinity, name: 'FILE' },
  examples: ['augur traffic examples/shop/augur.yaml --service cart --revision v2 --weight 1'],
  async run(ctx) {
    const service = stringOption(ctx, 'service');
    const revision = stringOption(ctx, 'revision');
    const weightText = stringOption(ctx, 'weight');
    const missing = [
      service === undefined ? '--service' : null,
      revision === undefined ? '--revision' : null,
      weightText === undefined ? '--weight' : null,
    ].filter((name) => name !== null);
    if (service === undefined || revision === undefined || weightText === undefined) {
      throw new UsageError(`missing ${missing.join(', ')}: --service, --revision and --weight are required`);
    }
    const weight = numberOption(ctx, 'weight', { min: 0, max: 100 }) as number;
    if (Math.abs(Math.round(weight * 100) - weight * 100) > 1e-6) {
      throw new UsageError(`--weight is limited to steps of 0.01%, got "${weightText}"`);
    }
    const { application } = await loadFiles(ctx.positionals);
    const services = Object.keys(application.services);
    if (!Object.hasOwn(application.services, service)) {
      throw new RefusedError(
        'UNKNOWN_SERVICE',
        `application ${application.name} has no service "${service}"${didYouMean(service, services)}; its services: ${services.join(', ')}`,
      );
    }
    let split: TrafficSplit;
    try {
      split = await callServer<TrafficSplit>(
        application.stateDir,
        'PUT',
        `/api/v1/services/${encodeURIComponent(service)}/traffic`,
        { revision, weight },
      );
    } catch (error) {
      // The server's "bad input" (an unknown revision, say) is the user's to fix, as a usage error is.
      if (error instanceof ApiError && error.status === 400)
        throw new RefusedError(error.code, error.message);
      throw error;
    }
    if (flag(ctx, 'json')) {
      ctx.io.out(`${JSON.stringify({ ...split, canaryPercent: split.canaryWeight / 100 })}\n`);
    } else {
      const canary = split.canary === null ? 'no canary' : `${split.canaryWeight / 100}% → ${split.canary}`;
      ctx.io.out(`${split.service}: ${canary}, ${(10_000 - split.canaryWeight) / 100}% → ${split.stable}\n`);
    }
    return EXIT.ok;
  },
};
