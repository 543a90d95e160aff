/**
 * The shape of each YAML document, with the defaults that do not depend on where the files are.
 * Objects are strict: a misspelt key must be reported, not ignored, or a typo in `limits` would
 * silently disable a safety limit.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import type { ConfigIssueCode } from './issues.js';
import { tierProblems } from './tiers.js';

export const API_VERSION = 'augur/v1alpha1';
export const KINDS = ['Application', 'Release'] as const;
export const ROUTER_KINDS = ['builtin', 'haproxy', 'nginx', 'gateway-api'] as const;
export const METRICS_KINDS = ['builtin', 'prometheus'] as const;
export const DEFAULT_TIERS: readonly number[] = [0.1, 1, 5, 25, 50, 100];
export const DEFAULT_STORE_URL = 'sqlite:.augur/augur.db';

/** Names end up in URLs, metric labels and file names: keep them to DNS-label characters. */
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Revisions are often versions (`v1.2`), so dots are allowed too. */
const REVISION_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

export const isName = (text: string): boolean => NAME.test(text);
export const isRevisionName = (text: string): boolean => REVISION_NAME.test(text);
export const NAME_RULE = 'lowercase letters, digits and "-", starting and ending with a letter or digit';

type Ctx = z.RefinementCtx;

export function addIssue(
  ctx: Ctx,
  code: ConfigIssueCode,
  message: string,
  path: (string | number)[] = [],
): void {
  ctx.addIssue({ code: 'custom', message, path, params: { code } });
}

const name = z
  .string()
  .refine(isName, { message: `names use ${NAME_RULE}`, params: { code: 'invalid_name' } });
const revisionName = z.string().refine(isRevisionName, {
  message: `revision names use ${NAME_RULE} or "."`,
  params: { code: 'invalid_name' },
});

const command = z.array(z.string().min(1)).min(1);

// Strings only, as in Kubernetes: an unquoted `1.10` would otherwise reach the process as "1.1".
const env = z.record(
  z.string(),
  z.string({ error: 'environment values are strings: quote the value, e.g. "1.10"' }),
);

/** A duration string (`30s`) read as milliseconds; absent keys take `fallback`. */
function duration(minimumMs: number, fallback?: string) {
  return z
    .unknown()
    .optional()
    .transform((value, ctx): number | undefined => {
      const text = value === undefined ? fallback : value;
      if (text === undefined) return undefined;
      const ms = typeof text === 'string' ? parseDuration(text) : undefined;
      if (ms === undefined) {
        addIssue(
          ctx,
          'invalid_duration',
          `${JSON.stringify(text)} is not a duration such as 500ms, 30s, 1h30m`,
        );
        return z.NEVER;
      }
      if (ms < minimumMs) {
        const bound = minimumMs === 1 ? 'greater than 0' : `at least ${minimumMs}ms`;
        addIssue(ctx, 'invalid_duration', `must be ${bound}, got ${JSON.stringify(text)}`);
        return z.NEVER;
      }
      return ms;
    });
}

function nonEmpty(what: string) {
  return [
    (record: Record<string, unknown>) => Object.keys(record).length > 0,
    { message: `at least one ${what} is needed`, params: { code: 'missing_key' } },
  ] as const;
}

/** For objects that hold alternatives (`backup: { sqlite }` or `{ postgres }`…): exactly one key. */
function exactlyOne(keys: readonly string[]) {
  return (value: Record<string, unknown>, ctx: Ctx): void => {
    const present = keys.filter((key) => value[key] !== undefined);
    if (present.length === 0) {
      addIssue(ctx, 'exactly_one', `one of ${keys.join(', ')} is needed`);
    }
    for (const extra of present.slice(1)) {
      addIssue(ctx, 'exactly_one', `only one of ${keys.join(', ')} may be given`, [extra]);
    }
  };
}

const positiveInt = z.number().int().min(1);

const revision = z.strictObject({ command, env: env.prefault({}) });

const call = z.strictObject({
  service: z.string(),
  perRequest: z.number().gt(0).default(1),
  mode: z.enum(['sequential', 'parallel']).default('sequential'),
});

const service = z.strictObject({
  port: z.number().int().min(1).max(65_535),
  stable: z.string(),
  revisions: z.record(z.string(), revision).refine(...nonEmpty('revision')),
  resources: z
    .strictObject({
      replicas: positiveInt.default(1),
      concurrency: positiveInt.default(16),
      cpu: z.number().gt(0).default(0.5),
    })
    .prefault({}),
  policies: z
    .strictObject({
      timeoutMs: z.number().gt(0).default(1000),
      retries: z.number().int().min(0).default(0),
    })
    .prefault({}),
  calls: z.array(call).default(() => []),
  limits: z
    .strictObject({
      latencyP99Ms: z.number().gt(0).optional(),
      errorRate: z.number().gt(0).max(1).optional(),
      cpu: z.number().gt(0).max(1).optional(),
    })
    .prefault({}),
  healthPath: z.string().startsWith('/').default('/healthz'),
  /** Files the service writes, by the environment variable that tells it where. */
  data: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'),
      z.string().min(1),
    )
    .default(() => ({})),
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const applicationSpec = z.strictObject({
  entrypoint: z.string(),
  services: z.record(z.string(), service).refine(...nonEmpty('service')),
  router: z.strictObject({ kind: z.enum(ROUTER_KINDS).default('builtin') }).prefault({}),
  metrics: z
    .strictObject({ kind: z.enum(METRICS_KINDS).default('builtin'), url: httpUrl.optional() })
    .prefault({})
    .superRefine((metrics, ctx) => {
      if (metrics.kind === 'prometheus' && metrics.url === undefined) {
        addIssue(ctx, 'missing_key', 'metrics of kind prometheus need the server `url`', ['url']);
      }
    }),
  store: z
    .strictObject({
      url: z
        .string()
        .refine((url) => /^(sqlite:|postgres(ql)?:\/\/)/.test(url), {
          message: 'expected sqlite:PATH or postgres://…',
          params: { code: 'invalid_value' },
        })
        .default(DEFAULT_STORE_URL),
    })
    .prefault({}),
  stateDir: z.string().min(1).optional(),
});

export const applicationDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Application'),
  metadata: z.strictObject({ name }),
  spec: applicationSpec,
});

const change = z
  .strictObject({
    service: z.string(),
    revision: revisionName,
    command: command.optional(),
    env: env.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.env !== undefined && value.command === undefined) {
      addIssue(
        ctx,
        'env_without_command',
        'a change declares a new revision with `command` (and optionally `env`); `env` alone cannot alter an existing revision',
        ['env'],
      );
    }
  });

const mitigation = z.strictObject({
  name,
  backup: z
    .strictObject({
      sqlite: z.string().min(1).optional(),
      postgres: z.string().min(1).optional(),
      command: command.optional(),
    })
    .superRefine(exactlyOne(['sqlite', 'postgres', 'command']))
    .optional(),
  check: z
    .strictObject({ command: command.optional(), http: httpUrl.optional() })
    .superRefine(exactlyOne(['command', 'http']))
    .optional(),
  restore: z.enum(['auto', 'manual']).default('manual'),
});

const releaseSpec = z.strictObject({
  application: z.string(),
  changes: z.array(change).min(1),
  tiers: z
    .array(z.number())
    .superRefine((tiers, ctx) => {
      for (const problem of tierProblems(tiers)) {
        addIssue(ctx, problem.code, problem.message, problem.index === undefined ? [] : [problem.index]);
      }
    })
    .default(() => [...DEFAULT_TIERS]),
  bake: z
    .strictObject({ minDuration: duration(0, '30s'), minRequests: z.number().int().min(0).default(500) })
    .prefault({}),
  monitoring: z
    .strictObject({ interval: duration(1, '10s'), warningInterval: duration(1) })
    .prefault({})
    .superRefine((monitoring, ctx) => {
      const { interval, warningInterval } = monitoring;
      if (interval !== undefined && warningInterval !== undefined && warningInterval > interval) {
        addIssue(ctx, 'interval_order', 'warningInterval must not exceed interval: it is the faster pace', [
          'warningInterval',
        ]);
      }
    }),
  risk: z
    .strictObject({ low: z.number().min(0).max(1).default(0.1), high: z.number().min(0).max(1).default(0.5) })
    .prefault({})
    .superRefine((risk, ctx) => {
      if (risk.low > risk.high) {
        addIssue(ctx, 'risk_order', `risk.low (${risk.low}) must not exceed risk.high (${risk.high})`, [
          'low',
        ]);
      }
    }),
  alpha: z.number().gt(0).lt(1).default(0.01),
  tolerance: z.strictObject({ latencyIncrease: z.number().min(0).max(100).default(0) }).prefault({}),
  rollback: z.strictObject({ policy: z.enum(['service', 'hold', 'all']).default('service') }).prefault({}),
  mitigations: z.array(mitigation).default(() => []),
});

export const releaseDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Release'),
  metadata: z.strictObject({ name }),
  spec: releaseSpec,
});

export type ApplicationDocument = z.output<typeof applicationDocument>;
export type ReleaseDocument = z.output<typeof releaseDocument>;
