import path from 'node:path';

/**
 * Stable codes of configuration issues. Tools and tests match on the code; the message is for people
 * and may be reworded.
 */
export type ConfigIssueCode =
  // Reading and parsing
  | 'file_unreadable'
  | 'yaml_syntax'
  | 'duplicate_key'
  // Document shape
  | 'not_a_mapping'
  | 'unknown_kind'
  | 'unknown_key'
  | 'missing_key'
  | 'invalid_type'
  | 'invalid_value'
  | 'not_integer'
  | 'out_of_range'
  | 'invalid_name'
  | 'invalid_duration'
  | 'exactly_one'
  // Tiers
  | 'tiers_empty'
  | 'tier_out_of_range'
  | 'tier_precision'
  | 'tiers_not_increasing'
  | 'tiers_not_ending_at_100'
  // Relations between values
  | 'interval_order'
  | 'risk_order'
  | 'unknown_service'
  | 'unknown_revision'
  | 'call_cycle'
  | 'duplicate_port'
  | 'port_in_use'
  | 'port_unavailable'
  | 'missing_application'
  | 'multiple_applications'
  | 'application_mismatch'
  | 'duplicate_release'
  | 'duplicate_change'
  | 'duplicate_mitigation'
  | 'change_is_stable'
  | 'revision_exists'
  | 'revision_conflict'
  | 'env_without_command';

export type IssuePath = readonly (string | number)[];

export interface ConfigIssue {
  /** Absolute path of the file the issue was found in. */
  readonly file: string;
  /** 1-based position of the offending node; for a missing key, of the mapping that lacks it. */
  readonly line: number;
  readonly column: number;
  /** Where in the document, e.g. `['spec', 'services', 'cart', 'calls', 0, 'service']`. */
  readonly path: IssuePath;
  readonly code: ConfigIssueCode;
  readonly message: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `spec.services.cart.calls[0].service`; keys that would be ambiguous are quoted. */
export function formatPath(issuePath: IssuePath): string {
  let out = '';
  for (const segment of issuePath) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '<root>' : out;
}

export function compareIssues(a: ConfigIssue, b: ConfigIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

/** One line per issue, `FILE:LINE:COL  error  PATH  MESSAGE (CODE)`, sorted by file and position. */
export function formatIssues(issues: readonly ConfigIssue[], cwd: string = process.cwd()): string {
  return [...issues]
    .sort(compareIssues)
    .map((issue) => {
      const file = issue.file === '' ? '<no file>' : path.relative(cwd, issue.file) || issue.file;
      return `${file}:${issue.line}:${issue.column}  error  ${formatPath(issue.path)}  ${issue.message} (${issue.code})`;
    })
    .join('\n');
}
