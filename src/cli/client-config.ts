import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { ConfigInvalidError } from './config-files.js';

/**
 * The CLI's own configuration file: where commands that talk to a running Augur send their
 * requests, and with which token, when neither a flag nor the environment says. YAML:
 *
 *   server: https://augur.example:7070
 *   token: augur_…            # optional; sent only to `server`
 *
 * It is `$AUGUR_CONFIG` when set (then it must exist), else `$XDG_CONFIG_HOME/augur/config.yaml`,
 * else `~/.config/augur/config.yaml` (absent: no configuration).
 */
export interface ClientConfig {
  readonly path: string;
  readonly server?: string;
  readonly token?: string;
}

const KEYS = ['server', 'token'] as const;

/** Where the configuration file is looked for, and whether it was named explicitly. */
export function clientConfigPath(env: NodeJS.ProcessEnv): { path: string; explicit: boolean } {
  const named = env['AUGUR_CONFIG'];
  if (named !== undefined && named !== '') return { path: resolve(named), explicit: true };
  const xdg = env['XDG_CONFIG_HOME'];
  const base = xdg !== undefined && xdg !== '' ? resolve(xdg) : join(env['HOME'] ?? homedir(), '.config');
  return { path: join(base, 'augur', 'config.yaml'), explicit: false };
}

/**
 * Reads the configuration file, or null when there is none. A file that does not parse, holds an
 * unknown key or a value that is not text is a ConfigInvalidError naming file:line:column. A file
 * holding a token must be the user's own and readable by nobody else (as ssh asks of its keys):
 * otherwise the token may already be someone else's, and it is refused rather than sent.
 */
export function readClientConfig(env: NodeJS.ProcessEnv): ClientConfig | null {
  const { path, explicit } = clientConfigPath(env);
  let text: string;
  let mode: number;
  let owner: number;
  try {
    const fd = openSync(path, 'r');
    try {
      const stat = fstatSync(fd);
      mode = stat.mode;
      owner = stat.uid;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!explicit && (code === 'ENOENT' || code === 'ENOTDIR')) return null;
    throw invalid(`${path}: cannot read the CLI configuration ($AUGUR_CONFIG): ${code ?? String(error)}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined): string => {
    const { line, col } = lines.linePos(offset ?? 0);
    return `${path}:${line}:${col}`;
  };
  const problems: string[] = doc.errors.map((e) => `${at(e.pos[0])}  ${e.message.split('\n')[0] ?? ''}`);
  const found: { server?: string; token?: string } = {};
  if (problems.length === 0 && doc.contents !== null) {
    if (!isMap(doc.contents)) {
      problems.push(`${at(doc.contents.range?.[0])}  expected a mapping with server and token`);
    } else {
      for (const pair of doc.contents.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const keyAt = at(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
        if (!(KEYS as readonly string[]).includes(key)) {
          problems.push(`${keyAt}  unknown key "${key}": the keys are ${KEYS.join(', ')}`);
          continue;
        }
        const value = isScalar(pair.value) ? pair.value.value : undefined;
        if (typeof value !== 'string' || value === '') {
          problems.push(`${keyAt}  ${key} must be non-empty text`);
          continue;
        }
        found[key as (typeof KEYS)[number]] = value;
      }
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems.join('\n'), problems.length);
  if (found.token !== undefined) {
    const uid = process.getuid?.();
    if (uid !== undefined && owner !== uid)
      throw invalid(`${path}: holds a token but belongs to another user (uid ${owner}): it is not used`);
    if ((mode & 0o077) !== 0)
      throw invalid(
        `${path}: holds a token but others may read it (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${path}`,
      );
  }
  return { path, ...found };
}

const invalid = (line: string): ConfigInvalidError => new ConfigInvalidError(line, 1);
