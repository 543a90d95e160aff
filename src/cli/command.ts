/** The shape every CLI command has: one typed table of flags, a run function, its help text. */
import { AugurError } from '../core/errors.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly description: string;
  /** Shown in --help, e.g. "PCT" for --weight PCT. */
  readonly value?: string;
  readonly default?: string | boolean;
}

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly isTty: boolean;
}

export interface CommandContext {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly io: Io;
  /** Aborted on Ctrl-C / SIGTERM: long-running commands stop cleanly. */
  readonly signal: AbortSignal;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** e.g. "FILE… [--json]" */
  readonly usage: string;
  readonly description?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly positionals: { readonly min: number; readonly max: number; readonly name: string };
  readonly examples?: readonly string[];
  run(ctx: CommandContext): Promise<number>;
}

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const;

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A numeric option: undefined when absent; a UsageError naming the option when it is not a (whole,
 * with `whole`) number, written in decimal, within [min, max] — or above `above`, when given.
 */
export function numberOption(
  ctx: CommandContext,
  name: string,
  bounds: {
    readonly min?: number;
    readonly above?: number;
    readonly max?: number;
    readonly whole?: boolean;
  } = {},
): number | undefined {
  const text = stringOption(ctx, name);
  if (text === undefined) return undefined;
  // Decimal notation only: Number() would also take "0x10", "0b1", "Infinity" and "".
  const value = DECIMAL.test(text.trim()) ? Number(text) : Number.NaN;
  const { above, max = Infinity, whole = false } = bounds;
  const min = above ?? bounds.min ?? -Infinity;
  const kind = whole ? 'a whole number' : 'a number';
  let range = '';
  if (Number.isFinite(min) && Number.isFinite(max))
    range = ` in ${above === undefined ? '[' : '('}${min}, ${max}]`;
  else if (Number.isFinite(min)) range = above === undefined ? ` ≥ ${min}` : ` > ${min}`;
  else if (Number.isFinite(max)) range = ` ≤ ${max}`;
  if (
    !Number.isFinite(value) ||
    (whole && !Number.isInteger(value)) ||
    value < min ||
    (above !== undefined && value <= above) ||
    value > max
  )
    throw new UsageError(`--${name} must be ${kind}${range}, got "${text}"`);
  return value;
}

export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true;
}

/** A usage error: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A refusal found only once the command acts — input a server rejects as bad (an unknown service or
 * revision), a state directory another Augur holds: printed with its code like a failure, but exit
 * code 2 like a usage error, without the usage line.
 */
export class RefusedError extends AugurError {
  override readonly name = 'RefusedError';
}

/** Codes of AugurErrors from below the CLI that are refusals too (see RefusedError). */
export const REFUSED_CODES: ReadonlySet<string> = new Set(['STATE_LOCKED']);
