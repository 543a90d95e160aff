import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { redactSecrets } from '../core/redact.js';
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
  /**
   * Why the file cannot be trusted to say where a token goes (it belongs to another user, or others
   * may change it), when it holds no token itself; absent when it can. See resolveTarget.
   */
  readonly untrusted?: string;
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
 * unknown key, a value that is not text or a `server` that is not an http(s) URL is a
 * ConfigInvalidError naming file:line:column. A file holding a token must be the user's own and
 * readable by nobody else (as ssh asks of its keys): otherwise the token may already be someone
 * else's, and it is refused rather than sent. A file without a token is read whatever its mode, but
 * `untrusted` says why its `server` must not receive a token from elsewhere (--token, AUGUR_TOKEN):
 * whoever may write the file could point that token at a server of theirs.
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
        const malformed = key === 'server' ? serverProblem(value) : null;
        if (malformed !== null) {
          const valueAt = at(isScalar(pair.value) ? pair.value.range?.[0] : undefined);
          problems.push(`${valueAt}  server ${malformed}, got "${redactSecrets(value)}"`);
          continue;
        }
        found[key as (typeof KEYS)[number]] = value;
      }
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems.join('\n'), problems.length);
  const uid = process.getuid?.();
  const foreign = uid !== undefined && owner !== uid;
  const permissions = (mode & 0o777).toString(8);
  if (found.token !== undefined) {
    if (foreign)
      throw invalid(`${path}: holds a token but belongs to another user (uid ${owner}): it is not used`);
    if ((mode & 0o077) !== 0)
      throw invalid(
        `${path}: holds a token but others may read it (mode ${permissions}): run chmod 600 ${path}`,
      );
    return { path, ...found };
  }
  let untrusted: string | undefined;
  if (foreign) untrusted = `it belongs to another user (uid ${owner})`;
  else if ((mode & 0o022) !== 0)
    untrusted = `others may change it (mode ${permissions}): run chmod go-w ${path}`;
  return { path, ...found, ...(untrusted !== undefined ? { untrusted } : {}) };
}

/**
 * What is wrong with a server address, or null: it must be an http(s) URL without credentials
 * (a token goes in --token, AUGUR_TOKEN or `token:`).
 */
export function serverProblem(text: string): string | null {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // Reported below with the other malformed addresses.
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    return 'must be an http(s) URL such as http://127.0.0.1:7070';
  if (url.username !== '' || url.password !== '')
    return 'must not hold credentials (user:password@): give the token with AUGUR_TOKEN or --token';
  return null;
}

const invalid = (line: string): ConfigInvalidError => new ConfigInvalidError(line, 1);
