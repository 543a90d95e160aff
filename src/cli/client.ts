import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigIssue } from '../config/issues.js';
import { formatPath } from '../config/issues.js';
import { AugurError } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback.js';
import { redactSecrets } from '../core/redact.js';
import { readServer } from '../server/local-access.js';
import { UsageError } from './command.js';
import type { ZodType } from 'zod';
import { firstProblem } from './api-shapes.js';
import type { ClientConfig } from './client-config.js';
import { clientConfigPath, readClientConfig, serverProblem } from './client-config.js';
import { ConfigInvalidError } from './config-files.js';
import type { SseEvent } from './sse-client.js';
import { followSse } from './sse-client.js';

/** Where a command sends its requests, and with which token. */
export interface ServerTarget {
  readonly url: string;
  readonly token: string | undefined;
  /** How the address was found, for error messages. */
  readonly source: string;
}

export interface TargetHints {
  /** --server, --token */
  readonly server?: string | undefined;
  readonly token?: string | undefined;
  /** State directory of the Application file the command was given, if any. */
  readonly stateDir?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** The CLI's configuration file; default: read through `env` (readClientConfig). */
  readonly config?: ClientConfig | null;
}

/**
 * The server a command talks to: `--server`, else `$AUGUR_SERVER`, else the Augur running for the
 * given Application's state directory, else the CLI configuration file's `server`, else the Augur
 * running for `./.augur` — a local one found through its server.json, used only when that record is
 * trustworthy (see readServer). The token is `--token`, else `$AUGUR_TOKEN`, else the configuration
 * file's `token` (only towards the configuration's own server), else — for a local Augur only — its
 * admin token file. A malformed address is a usage error.
 */
export function resolveTarget(hints: TargetHints): ServerTarget {
  const env = hints.env ?? process.env;
  const token = hints.token ?? nonEmpty(env['AUGUR_TOKEN']);
  // Read only when it can matter: a broken file must not stop a command that names its server.
  const configured = (): { config: ClientConfig; url: string } | null => {
    const config = hints.config !== undefined ? hints.config : readClientConfig(env);
    if (config?.server === undefined) return null;
    return { config, url: serverUrl(config.server, `server in ${config.path}`) };
  };
  const remote = hints.server ?? nonEmpty(env['AUGUR_SERVER']);
  if (remote !== undefined) {
    const source = hints.server !== undefined ? '--server' : 'AUGUR_SERVER';
    const url = serverUrl(remote, source);
    if (token !== undefined) return { url, token, source };
    // The configuration's token goes to the configuration's server and nowhere else.
    const own = configured();
    return { url, token: own !== null && sameServer(url, own.url) ? own.config.token : undefined, source };
  }
  if (hints.stateDir === undefined) {
    const own = configured();
    if (own !== null) {
      const { config } = own;
      // A token from the flag or the environment must not follow an address that someone else
      // could have written into the file.
      if (token !== undefined && config.untrusted !== undefined) {
        const from = hints.token !== undefined ? '--token' : 'AUGUR_TOKEN';
        throw new ConfigInvalidError(
          `${config.path}: gives the server that ${from} would be sent to, but ${config.untrusted}; nothing was sent`,
          1,
        );
      }
      return { url: own.url, token: token ?? config.token, source: config.path };
    }
  }
  const stateDir = hints.stateDir ?? resolve('.augur');
  if (hints.stateDir === undefined && !existsSync(resolve(stateDir, 'server.json'))) {
    throw new AugurError(
      'NO_SERVER',
      'no server given: use --server URL, or set AUGUR_SERVER, or put `server:` in the CLI configuration file ' +
        `(${clientConfigPath(env).path}), or give -f FILE naming the Application of a running \`augur up\`/\`augur server\`, ` +
        'or run the command in the directory where one runs (its ./.augur)',
    );
  }
  const local = readServer(stateDir);
  return { url: local.info.url, token: token ?? local.token, source: `${stateDir}/server.json` };
}

function serverUrl(text: string, source: string): string {
  const problem = serverProblem(text);
  if (problem !== null) throw new UsageError(`${source} ${problem}, got "${redactSecrets(text)}"`);
  return text.replace(/\/+$/, '');
}

/**
 * A warning when the target's token would cross a network in clear text: plain http to a host that
 * is not this machine's loopback. (The server binds loopback; a remote one belongs behind TLS.)
 */
export function cleartextTokenWarning(target: ServerTarget): string | null {
  if (target.token === undefined) return null;
  const url = new URL(target.url);
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return null;
  return (
    `warning: the token goes to ${url.origin} (from ${target.source}) over plain http, readable ` +
    'by anyone on the way: use https (a TLS proxy in front of the server) or an SSH tunnel to its ' +
    'loopback address\n'
  );
}

/** Whether two server URLs are the same origin (scheme, host and port) and path. */
function sameServer(a: string, b: string): boolean {
  const x = new URL(a);
  const y = new URL(b);
  return x.origin === y.origin && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '');
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;

/** A refusal from the API, with its HTTP status and stable code. */
export class ApiError extends AugurError {
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

interface ErrorBody {
  readonly error?: string;
  readonly code?: string;
  readonly issues?: readonly ConfigIssue[];
}

export class ApiClient {
  readonly target: ServerTarget;

  constructor(target: ServerTarget) {
    this.target = target;
  }

  async request<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    options: { label?: string; shape?: ZodType<T> } = {},
  ): Promise<T> {
    const response = await this.fetch(path, {
      method,
      headers: this.headers(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let payload: unknown;
    try {
      payload = text === '' ? {} : (JSON.parse(text) as unknown);
    } catch {
      throw new ApiError(
        response.status,
        `HTTP_${response.status}`,
        `${this.target.url} did not answer JSON`,
      );
    }
    if (!response.ok) throw this.refusal(response.status, payload as ErrorBody, options.label);
    if (options.shape === undefined) return payload as T;
    const checked = options.shape.safeParse(payload);
    if (!checked.success) {
      throw new ApiError(
        response.status,
        'NOT_AUGUR',
        `${this.target.url} answered ${method} ${path} with JSON that Augur's API does not send (${firstProblem(checked.error)}): is it an Augur server of this version?`,
      );
    }
    return payload as T;
  }

  /**
   * Follows an event stream until `onEvent` returns true or the signal aborts; reconnects with
   * Last-Event-ID when the connection drops or ends, waiting first (floored, with backoff).
   */
  follow(
    path: string,
    onEvent: (event: SseEvent) => boolean | void,
    options: { signal: AbortSignal; lastEventId?: string; maxReconnects?: number },
  ): Promise<'stopped' | 'aborted'> {
    return followSse(
      (lastId) =>
        this.fetch(path, {
          headers: this.headers({
            accept: 'text/event-stream',
            ...(lastId !== undefined ? { 'last-event-id': lastId } : {}),
          }),
          signal: options.signal,
        }),
      async (response) => this.refusal(response.status, safeJson(await response.text())),
      onEvent,
      options,
    );
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const token = this.target.token;
    return { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...extra };
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.target.url}${path}`, init);
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new AugurError(
        'NOT_RUNNING',
        `the Augur at ${this.target.url} (from ${this.target.source}) does not answer: ${cause}`,
      );
    }
  }

  private refusal(status: number, body: ErrorBody, label?: string): Error {
    const issues = body.issues;
    if (body.code === 'CONFIG_INVALID' && issues !== undefined && Array.isArray(issues)) {
      const where = label ?? 'request';
      const report = issues
        .map((i: ConfigIssue) => `${where}  error  ${formatPath(i.path)}  ${i.message} (${i.code})`)
        .join('\n');
      return new ConfigInvalidError(report, issues.length);
    }
    const hint =
      status === 401
        ? ' (give a token with --token or AUGUR_TOKEN; create one with `augur token create`)'
        : '';
    return new ApiError(status, body.code ?? `HTTP_${status}`, `${body.error ?? `HTTP ${status}`}${hint}`);
  }
}

function safeJson(text: string): ErrorBody {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return {};
  }
}

/** Calls the API of the Augur running for a state directory, with its local admin token. */
export async function callServer<T>(
  stateDir: string,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  return new ApiClient(resolveTarget({ stateDir, env: {}, config: null })).request<T>(method, path, body);
}
