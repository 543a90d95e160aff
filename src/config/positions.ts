/**
 * Maps a path inside a parsed document (`spec.services.cart.port`) back to a line and column, so
 * that every issue points at the text to fix.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { ConfigIssue, ConfigIssueCode, IssuePath } from './issues.js';

export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * `value`: the node at the path (the default). `key`: the key naming the last segment, for issues
 * about the key itself (unknown or misspelt keys). Either way, when the path leads to a key that
 * is absent, the position is that of the deepest mapping or sequence that exists, which is the one
 * missing the key.
 */
export type Target = 'value' | 'key';

function startOf(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

/** An empty value (`stable:` with nothing after it) has no text of its own: point at its key. */
function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.range != null && node.range[0] === node.range[1];
}

export function offsetOf(doc: Document, issuePath: IssuePath, target: Target = 'value'): number {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [index, segment] of issuePath.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    const last = index === issuePath.length - 1;
    let key: unknown;
    let value: unknown;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) return offset;
      key = pair.key;
      value = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      value = node.items[segment];
      if (value === undefined) return offset;
      key = value;
    } else {
      return offset;
    }
    if (last && target === 'key') return startOf(key) ?? offset;
    const valueStart = startOf(value);
    if (valueStart === undefined || isEmptyScalar(value)) return startOf(key) ?? offset;
    offset = valueStart;
    node = value;
  }
  return offset;
}

/** A parsed document together with what is needed to turn paths into issues. */
export class SourceDocument {
  readonly file: string;
  /** The file as messages name it: relative to the working directory. */
  readonly label: string;
  readonly doc: Document;
  private readonly lineCounter: LineCounter;

  constructor(file: string, doc: Document, lineCounter: LineCounter, label: string = file) {
    this.file = file;
    this.label = label;
    this.doc = doc;
    this.lineCounter = lineCounter;
  }

  /** `FILE:LINE` of a node, for messages that refer to another place. */
  where(issuePath: IssuePath = []): string {
    return `${this.label}:${this.position(issuePath).line}`;
  }

  positionOfOffset(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  position(issuePath: IssuePath, target: Target = 'value'): Position {
    return this.positionOfOffset(offsetOf(this.doc, issuePath, target));
  }

  issue(issuePath: IssuePath, code: ConfigIssueCode, message: string, target: Target = 'value'): ConfigIssue {
    return { file: this.file, ...this.position(issuePath, target), path: [...issuePath], code, message };
  }
}
