import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The copies of the data that restores of `backup` kept: `<backup stem>-replaced-<random><extension>`
 * beside it (`extension` is the backup's own: `.sqlite`, `.dump`), in name order.
 */
export function copiesOf(backup: string, extension: string): string[] {
  const dir = dirname(backup);
  const prefix = `${basename(backup, extension)}-replaced-`;
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(extension))
    .sort()
    .map((f) => join(dir, f));
}
