import type { Command } from './command.js';

export function commandHelp(command: Command): string {
  const lines = [`Usage: augur ${command.name} ${command.usage}`, '', command.summary];
  if (command.description !== undefined) lines.push('', command.description);
  const entries = Object.entries(command.options);
  const left = entries.map(([name, o]) => {
    const short = o.short !== undefined ? `-${o.short}, ` : '    ';
    return `  ${short}--${name}${o.value !== undefined ? ` ${o.value}` : ''}`;
  });
  const help = '  -h, --help';
  const width = Math.max(...left.map((l) => l.length), help.length, 20) + 2;
  lines.push('', 'Options:');
  entries.forEach(([, o], i) => {
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    lines.push(`${(left[i] ?? '').padEnd(width)}${o.description}${def}`);
  });
  lines.push(`${help.padEnd(width)}show this help`);
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  }
  return `${lines.join('\n')}\n`;
}

export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'Augur: predictive progressive delivery.',
    '',
    'Usage: augur COMMAND [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run `augur COMMAND --help` for a command's options.",
    'Exit codes: 0 success, 1 failure, 2 invalid usage, configuration or input, 130 interrupted.',
    '`up`, `server` and `status -w` run until Ctrl-C, and then exit 0.',
    '',
  ].join('\n');
}
