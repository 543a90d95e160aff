import { describe, expect, it } from 'vitest';
import { commands } from './commands/index.js';
import { commandHelp } from './help.js';

describe('command help', () => {
  it('names every option a command accepts, in its usage line and in its options', () => {
    for (const command of commands) {
      const help = commandHelp(command);
      for (const [name, option] of Object.entries(command.options)) {
        const short = option.short === undefined ? null : `-${option.short} `;
        const inUsage =
          command.usage.includes(`--${name}`) || (short !== null && command.usage.includes(short));
        expect(inUsage, `${command.name} --${name} in "${command.usage}"`).toBe(true);
        expect(help, `${command.name} --${name}`).toMatch(new RegExp(`^ {2}(-\\w, | {4})--${name}\\b`, 'm'));
      }
    }
  });
});
