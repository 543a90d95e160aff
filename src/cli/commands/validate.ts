import { loadConfiguration } from '../../config/index.js';
import { unavailableBackends } from '../../config/available.js';
import { formatIssues } from '../../config/issues.js';
import type { Command } from '../command.js';
import { EXIT, flag } from '../command.js';
import { plural } from '../format.js';

export const validate: Command = {
  name: 'validate',
  summary: 'Check Application and Release files; report every error with file:line:column.',
  usage: 'FILE… [--json] [--check-ports]',
  description:
    'Exit code 0 when the files are valid, 2 when they are not. A valid file may still name a backend\n' +
    'this version cannot run (a router, metrics or store other than the builtin ones and SQLite): it\n' +
    'is noted, and the commands that run the application refuse it. With --json, prints\n' +
    '{ "valid": bool, "issues": [{ file, line, column, path, code, message }], "summary",\n' +
    '"unavailable": [message] }.',
  options: {
    json: { type: 'boolean', description: 'machine-readable output' },
    'check-ports': { type: 'boolean', description: 'also report service ports already in use on 127.0.0.1' },
  },
  positionals: { min: 1, max: Infinity, name: 'FILE' },
  examples: ['augur validate examples/shop/augur.yaml examples/shop/releases/cart-v2.yaml'],
  async run(ctx) {
    const result = await loadConfiguration([...ctx.positionals], { checkPorts: flag(ctx, 'check-ports') });
    const unavailable = result.ok ? unavailableBackends(result.value.application) : [];
    if (flag(ctx, 'json')) {
      const body = result.ok
        ? {
            valid: true,
            issues: [],
            summary: {
              application: result.value.application.name,
              services: Object.keys(result.value.application.services),
              releases: result.value.releases.map((r) => r.name),
            },
            unavailable,
          }
        : { valid: false, issues: result.error, summary: null, unavailable };
      ctx.io.out(`${JSON.stringify(body, null, 2)}\n`);
      return result.ok ? EXIT.ok : EXIT.usage;
    }
    if (!result.ok) {
      ctx.io.err(`${formatIssues(result.error)}\n${plural(result.error.length, 'error')}\n`);
      return EXIT.usage;
    }
    const { application, releases } = result.value;
    ctx.io.out(
      `valid: application ${application.name} (${Object.keys(application.services).length} services)` +
        (releases.length > 0 ? `, releases ${releases.map((r) => r.name).join(', ')}` : '') +
        '\n',
    );
    for (const line of unavailable) ctx.io.err(`note: ${line} (augur up refuses to run this file)\n`);
    return EXIT.ok;
  },
};
