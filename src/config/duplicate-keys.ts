/**
 * Keys given twice in one mapping. The YAML parser would stop at the first and leave the document
 * unchecked; found here instead, each is reported at its own path and place, and the rest of the
 * document is still checked (with the later value, as YAML readers that accept duplicates take it).
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { ConfigIssue, IssuePath } from './issues.js';
import type { SourceDocument } from './positions.js';

/** YAML 1.1's merge key may repeat: `<<: *a` then `<<: *b`. */
const MERGE_KEY = '<<';

export function duplicateKeys(source: SourceDocument): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const visit = (node: unknown, path: IssuePath): void => {
    if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, index]));
      return;
    }
    if (!isMap(node)) return;
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const offset = pair.key.range?.[0] ?? 0;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, offset);
      else if (key !== MERGE_KEY) {
        const at = source.positionOfOffset(first);
        issues.push({
          file: source.file,
          ...source.positionOfOffset(offset),
          path: [...path, key],
          code: 'duplicate_key',
          message: `"${key}" is given twice in the same mapping (first at line ${at.line}, column ${at.column}); the last one is checked`,
        });
      }
      visit(pair.value, [...path, key]);
    }
  };
  visit(source.doc.contents, []);
  return issues;
}
