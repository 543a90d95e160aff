import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { closest } from '../config/suggest.js';
import { AugurError } from '../core/errors.js';
import type { Command, Io } from './command.js';
import { EXIT, REFUSED_CODES, RefusedError, UsageError } from './command.js';
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
  if (name === undefined) {
    io.err(mainHelp(commands));
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    // `augur help validate` is `augur validate --help`.
    const topic = name === 'help' ? rest[0] : undefined;
    const command = commands.find((c) => c.name === topic);
    if (topic !== undefined && command === undefined) return unknownCommand(topic, io);
    io.out(command === undefined ? mainHelp(commands) : commandHelp(command));
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out(`augur ${version()}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) return unknownCommand(name, io);
  return runCommand(command, rest, io);
}

function unknownCommand(name: string, io: Io): number {
  if (name.startsWith('-')) {
    io.err(`augur: unknown option "${name}": give a command first\n\n${mainHelp(commands)}`);
    return EXIT.usage;
  }
  const near = closest(
    name,
    commands.map((c) => c.name),
  );
  const hint = near === undefined ? '' : ` — did you mean "${near}"?`;
  io.err(`augur: unknown command "${name}"${hint}\n\n${mainHelp(commands)}`);
  return EXIT.usage;
}

/** The package's version, as installed. */
function version(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const parsed = JSON.parse(text) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** parseArgs's complaint in the words of this CLI, with the nearest option for a typo. */
function argumentError(command: Command, error: NodeJS.ErrnoException): string {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) {
    const near = closest(option.replace(/^-+/, ''), Object.keys(command.options));
    const hint = near === undefined ? '' : ` — did you mean --${near}?`;
    return `unknown option ${option}${hint}`;
  }
  if (error.message.includes('is ambiguous') && option !== undefined)
    return `${option} needs a value; a value starting with "-" is written ${option}=-VALUE`;
  return error.message;
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
    io.err(`augur ${command.name}: ${argumentError(command, error as NodeJS.ErrnoException)}\n`);
    io.err(`Usage: augur ${command.name} ${command.usage}\n`);
    return EXIT.usage;
  }
  if (parsed.values.help === true) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }
  const { min, max, name } = command.positionals;
  const count = parsed.positionals.length;
  if (count < min || count > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    const message =
      max === 0
        ? `takes no arguments, got ${parsed.positionals.map((p) => `"${p}"`).join(' ')}`
        : `expected ${want} ${max === 1 || (max === Infinity && min === 1) ? 'argument' : 'arguments'} (${name}), got ${count}`;
    io.err(`augur ${command.name}: ${message}\nUsage: augur ${command.name} ${command.usage}\n`);
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
      return error instanceof RefusedError || REFUSED_CODES.has(error.code) ? EXIT.usage : EXIT.failure;
    }
    io.err(`augur ${command.name}: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.failure;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    process.stdout.off('error', onStreamError);
    process.stderr.off('error', onStreamError);
  }
}
