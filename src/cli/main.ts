import { parseArgs } from 'node:util';
import { AugurError } from '../core/errors.js';
import type { Command, Io } from './command.js';
import { EXIT, UsageError } from './command.js';
import { commands } from './commands/index.js';
import { ConfigInvalidError } from './config-files.js';
import { commandHelp, mainHelp } from './help.js';

const defaultIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTty: process.stdout.isTTY,
};

/** Runs one CLI invocation and returns its exit code. */
export async function main(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp(commands));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out('augur 0.1.0\n');
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`augur: unknown command "${name}"\n\n${mainHelp(commands)}`);
    return EXIT.usage;
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, argv: readonly string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          Object.entries(command.options).map(([n, o]) => [
            n,
            o.short !== undefined ? { type: o.type, short: o.short } : { type: o.type },
          ]),
        ),
      },
    });
  } catch (error) {
    io.err(
      `augur ${command.name}: ${(error as Error).message}\nUsage: augur ${command.name} ${command.usage}\n`,
    );
    return EXIT.usage;
  }
  if (parsed.values.help === true) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }
  const { min, max, name } = command.positionals;
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    io.err(
      `augur ${command.name}: expected ${want} ${name} argument(s), got ${parsed.positionals.length}\n` +
        `Usage: augur ${command.name} ${command.usage}\n`,
    );
    return EXIT.usage;
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [n, o] of Object.entries(command.options)) {
    const v = parsed.values[n];
    values[n] = typeof v === 'string' || typeof v === 'boolean' ? v : o.default;
  }

  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) {
      io.err('\nforced exit\n');
      process.exit(EXIT.interrupted);
    }
    controller.abort();
  };
  // SIGHUP too: a closed terminal must stop the services as cleanly as Ctrl-C does.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  // A closed pipe (`augur demo | head`) must stop the command cleanly, not crash it and leave its
  // services running.
  const onStreamError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') controller.abort();
  };
  process.stdout.on('error', onStreamError);
  process.stderr.on('error', onStreamError);
  try {
    return await command.run({ values, positionals: parsed.positionals, io, signal: controller.signal });
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`augur ${command.name}: ${error.message}\nUsage: augur ${command.name} ${command.usage}\n`);
      return EXIT.usage;
    }
    if (error instanceof ConfigInvalidError) {
      io.err(`${error.report}\n${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof AugurError) {
      io.err(`augur ${command.name}: ${error.message} [${error.code}]\n`);
      return EXIT.failure;
    }
    io.err(`augur ${command.name}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.failure;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    process.stdout.off('error', onStreamError);
    process.stderr.off('error', onStreamError);
  }
}
