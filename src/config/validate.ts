/** Runs a document schema and turns zod's issues into positioned configuration issues. */
import { z } from 'zod';
import { err, ok, type Result } from '../core/result.js';
import type { ConfigIssue, ConfigIssueCode } from './issues.js';
import type { SourceDocument } from './positions.js';
import { didYouMean } from './suggest.js';

type ZodIssue = z.core.$ZodIssue;
type Segment = string | number;

const toSegments = (zodPath: readonly PropertyKey[]): Segment[] =>
  zodPath.map((segment) => (typeof segment === 'number' ? segment : String(segment)));

const keyOf = (segments: readonly Segment[]): string => JSON.stringify(segments);

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

function bound(issue: ZodIssue & { code: 'too_small' | 'too_big' }): string {
  const small = issue.code === 'too_small';
  const limit = small ? issue.minimum : issue.maximum;
  switch (issue.origin) {
    case 'array': {
      const items = `${limit} item${limit === 1 ? '' : 's'}`;
      return small ? `needs at least ${items}` : `allows at most ${items}`;
    }
    case 'string':
      return small
        ? limit === 1
          ? 'must not be empty'
          : `needs at least ${limit} characters`
        : `allows at most ${limit} characters`;
    default: {
      const inclusive = issue.inclusive ?? true;
      const relation = small
        ? inclusive
          ? 'at least'
          : 'greater than'
        : inclusive
          ? 'at most'
          : 'less than';
      return `must be ${relation} ${limit}, got ${describeValue(issue.input)}`;
    }
  }
}

interface Translated {
  readonly path: Segment[];
  readonly code: ConfigIssueCode;
  readonly message: string;
  readonly atKey?: boolean;
}

function translate(issue: ZodIssue, known: ReadonlyMap<string, readonly string[]>): Translated[] {
  const path = toSegments(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const candidates = known.get(keyOf(path)) ?? [];
      return issue.keys.map((key) => ({
        path: [...path, key],
        code: 'unknown_key',
        message: `unknown key "${key}"${didYouMean(key, candidates)}`,
        atKey: true,
      }));
    }
    case 'invalid_type': {
      if (issue.input === undefined) {
        return [{ path, code: 'missing_key', message: `"${String(path.at(-1))}" is required` }];
      }
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const code = issue.expected === 'int' ? 'not_integer' : 'invalid_type';
      const custom = issue.message.startsWith('Invalid input') ? undefined : issue.message;
      return [{ path, code, message: custom ?? `expected ${expected}, got ${describeValue(issue.input)}` }];
    }
    case 'invalid_value': {
      const options = issue.values.map((value) => String(value));
      const got = describeValue(issue.input);
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, options) : '';
      const expected = options.length === 1 ? JSON.stringify(options[0]) : `one of ${options.join(', ')}`;
      return [{ path, code: 'invalid_value', message: `expected ${expected}, got ${got}${hint}` }];
    }
    case 'too_small':
    case 'too_big':
      return [{ path, code: 'out_of_range', message: bound(issue) }];
    case 'invalid_format': {
      const message =
        issue.format === 'starts_with'
          ? `must start with "${(issue as z.core.$ZodIssueStringStartsWith).prefix}"`
          : issue.message;
      return [{ path, code: 'invalid_value', message }];
    }
    case 'custom': {
      const code = (issue.params?.['code'] as ConfigIssueCode | undefined) ?? 'invalid_value';
      return [{ path, code, message: issue.message }];
    }
    default:
      return [{ path, code: 'invalid_value', message: issue.message }];
  }
}

/** Parses `data` with `schema`; every problem comes back at once, positioned in `source`. */
export function validateDocument<T>(
  schema: z.ZodType<T>,
  data: unknown,
  source: SourceDocument,
): Result<T, ConfigIssue[]> {
  // zod reports unknown keys without the keys it expected; the error map still sees the schema,
  // so note them here for the "did you mean" hint.
  const known = new Map<string, readonly string[]>();
  const result = schema.safeParse(data, {
    reportInput: true,
    error: (issue) => {
      if (issue.code === 'unrecognized_keys' && issue.inst instanceof z.ZodObject) {
        known.set(keyOf(toSegments(issue.path ?? [])), Object.keys(issue.inst.shape));
      }
      return undefined;
    },
  });
  if (result.success) return ok(result.data);
  const issues = result.error.issues.flatMap((issue) =>
    translate(issue, known).map((t) =>
      source.issue(t.path, t.code, t.message, t.atKey === true ? 'key' : 'value'),
    ),
  );
  return err(issues);
}
