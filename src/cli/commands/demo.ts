import { rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReleaseEvent } from '../../controller/core/events.js';
import type { ReleasePhase } from '../../controller/core/types.js';
import type { ObservedForecaster } from '../../predict/forecast.js';
import { AugurError } from '../../core/errors.js';
import { summarizeModelSet } from '../../calibration/model-set.js';
import { loadConfiguration } from '../../config/index.js';
import { formatIssues } from '../../config/issues.js';
import type {
  ApplicationConfig,
  DeploymentConfiguration,
  MitigationConfig,
  ReleaseConfig,
} from '../../config/types.js';
import { applicationDir } from '../../config/types.js';
import { predictPipeline } from '../../predict/pipeline.js';
import { runLoad } from '../../load/index.js';
import type { LoadSnapshot } from '../../load/index.js';
import { StateLock } from '../../runtime/process/state-lock.js';
import type { Command } from '../command.js';
import { EXIT, flag, numberOption } from '../command.js';
import { fixed } from '../format.js';
import { releaseEventLine } from '../release-events.js';
import type { DemoReleaseSummary } from './demo-summary.js';
import { formatSummary, summarize } from './demo-summary.js';
import { describe } from './predict.js';
import { addresses, serve } from '../serve.js';

/** The package root: the demo runs the shop shipped with Augur, wherever it is started from. */
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const RELEASES = ['cart-v2', 'cart-v3', 'cart-bad', 'payments-catalog-v2'];
/** The demo's model rows: one per second of each revision's traffic, profiled on the 30 s before. */
const DEMO_INGEST = { windowMs: 1_000, profileWindowMs: 30_000 } as const;
/**
 * The demo runs for two minutes, about 500 windows in all: it trains from 300 (a deployment waits
 * for LEARNED_FROM, 500; docs/model.md), so its model's held-out figures rest on 60 windows.
 */
const DEMO_LEARNED_FROM = 300;
/** How each demo release should end. */
const EXPECTED: Readonly<Record<string, ReleasePhase>> = {
  'cart-v2': 'promoted',
  'cart-v3': 'rolled-back',
  'cart-bad': 'rolled-back',
  // payments v2 rolled back and the orders restored; catalog v2 promoted.
  'payments-catalog-v2': 'mixed',
};
/** How each service of a multi-service demo release should end. */
const EXPECTED_SERVICES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'payments-catalog-v2': { payments: 'rolled-back', catalog: 'promoted' },
};

export const demo: Command = {
  name: 'demo',
  summary: 'The shop under production-like load; four releases predicted, then decided live.',
  usage: '[--rate 50] [--once] [--json] [--no-predict]',
  description:
    'Starts examples/shop (frontend → catalog, frontend → cart → payments) on ports 8080–8083 with the\n' +
    'builtin router and metrics, sends steady load, then predicts and rolls out four releases one\n' +
    'after the other: cart-v2 (genuinely faster: promoted to 100%), cart-v3 (3× the service time:\n' +
    'predicted to saturate cart’s CPU at 100%, stopped at a small tier once the canary confirms it),\n' +
    'cart-bad (5% errors: rolled back at its first tier) and payments-catalog-v2 (two services: payments\n' +
    'v2 fails payments and corrupts orders and is rolled back alone, the orders database restored from\n' +
    'its backup and verified; catalog v2 goes on to 100%). Before each release, `predict` measures the\n' +
    'revisions in a sandbox and simulates the tiers; its verdict is printed. Meanwhile the prediction\n' +
    'model learns from the traffic. Progress is printed as it happens; the whole demo takes about 3\n' +
    "minutes. State lives in .augur/demo — the shop's orders too, in .augur/demo/data — and starts\n" +
    'afresh each run. The restore puts the whole backup back: the orders written since it are discarded\n' +
    'with the corrupt ones, and the events and the summary say how many. With --json, prints per release\n' +
    'its outcome and, per changed service, the tier reached, the time to its decision, the requests its\n' +
    'canary served and how many failed; the data mitigation (what the check found, the rows the restore\n' +
    'discarded) and the model trained. --once is accepted for scripts (the demo always runs once). Exit\n' +
    'code 0 when every release ends as expected.',
  options: {
    rate: { type: 'string', value: 'N', description: 'page views per second during the demo', default: '50' },
    once: { type: 'boolean', description: 'run once and exit (the default; kept for scripts)' },
    json: { type: 'boolean', description: 'print the summary as JSON' },
    'no-predict': { type: 'boolean', description: 'skip the prediction before each release' },
  },
  positionals: { min: 0, max: 0, name: '' },
  examples: ['augur demo', 'augur demo --once --json > summary.json', 'augur demo --rate 30 --no-predict'],
  async run(ctx) {
    const started = Date.now();
    const rate = numberOption(ctx, 'rate', { above: 0, max: 500 }) ?? 50;
    const json = flag(ctx, 'json');
    const say = (text: string): void => ctx.io.err(text);

    const files = [
      join(packageRoot, 'examples', 'shop', 'augur.yaml'),
      ...RELEASES.map((r) => join(packageRoot, 'examples', 'shop', 'releases', `${r}.yaml`)),
    ];
    const loaded = await loadConfiguration(files, { cwd: packageRoot, checkPorts: true });
    if (!loaded.ok) {
      say(`${formatIssues(loaded.error)}\nthe demo needs ports 8080–8083 free on 127.0.0.1\n`);
      return EXIT.usage;
    }
    const shop = freshDemoState(loaded.value);
    const app = shop.application;
    const serving = await serve(app, ctx.io, {
      quiet: true,
      runReleases: true,
      // The prediction model learns from every second of the shop's traffic (docs/model.md).
      learning: {
        ingest: DEMO_INGEST,
        learnedFrom: DEMO_LEARNED_FROM,
        say: (line) => say(`         ${line}\n`),
      },
      onReleaseEvent: (event: ReleaseEvent) => {
        const line = releaseEventLine(event);
        if (line !== null) say(`${line}\n`);
      },
    });
    const { controller, models, forecaster } = serving;
    if (controller === null || models === null || forecaster === null) {
      await serving.stop();
      throw new AugurError('NO_CONTROLLER', 'the demo could not start its rollout controller');
    }
    const stopLoad = new AbortController();
    const onAbort = (): void => stopLoad.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      say(
        `augur demo: the shop is up\n${addresses(serving.plane)}  control API  ${serving.apiUrl}\n` +
          `  dashboard    ${serving.apiUrl}/  (watch the releases live; to steer them, give it the token in ${app.stateDir}/admin.token)\n`,
      );
      const entry = serving.plane.router.address(app.entrypoint);
      const load = runLoad(
        {
          target: `http://${entry.host}:${entry.port}/`,
          profile: 'constant',
          rate,
          durationMs: 330_000,
          users: 5000,
          signal: stopLoad.signal,
          progressIntervalMs: 5_000,
        },
        {
          onProgress: (s: LoadSnapshot) => {
            say(
              `         load ${fixed(s.rps, 0)} pages/s, p99 ${fixed(s.p99Ms, 1)} ms, errors ${s.errors}\n`,
            );
          },
        },
      );
      // Let the stable revisions build a baseline before the first canary.
      await delay(5_000, ctx.signal);
      const summaries: DemoReleaseSummary[] = [];
      for (const spec of shop.releases) {
        if (ctx.signal.aborted) break;
        say(
          `\n— release ${spec.name}: ${spec.changes.map((c) => `${c.service} → ${c.revision}`).join(', ')}, tiers ${spec.tiers.join('% → ')}%\n`,
        );
        const prediction = flag(ctx, 'no-predict')
          ? null
          : await predictForDemo(shop, spec, rate, ctx.signal, say, forecaster);
        if (ctx.signal.aborted) break;
        const started = Date.now();
        // The prediction's risk holds the tiers of the services it blames (a failure point names
        // their new revision) until their canaries' own figures lower it.
        const priors = Object.fromEntries(
          (prediction?.blamed ?? []).map((service) => [
            service,
            {
              value: prediction?.riskScore ?? 0,
              breachTier: prediction?.breachTier ?? null,
              detail: prediction?.summary ?? null,
            },
          ]),
        );
        await controller.submit(spec, priors);
        const outcome = await Promise.race([controller.wait(spec.name), aborted(ctx.signal)]);
        if (outcome === 'interrupted') break;
        const state = controller.state(spec.name);
        if (state !== null)
          summaries.push({ ...(await summarize(serving.plane, spec, state, outcome, started)), prediction });
      }
      stopLoad.abort();
      const report = await load;
      if (ctx.signal.aborted) {
        say('interrupted\n');
        return EXIT.interrupted;
      }
      // A last training on everything the run recorded, so the model covers every metric it can.
      await models.step();
      const trained = (await models.trainNow()) ?? models.ranges().set;
      const model = trained === null ? null : summarizeModelSet(trained);
      say(
        model === null
          ? `model: not trained (${await serving.plane.store.countModelRows()} rows, fewer than it needs)\n`
          : `model ${model.id}: trained on ${model.rows} windows; \`augur model status\` shows its calibration\n`,
      );
      const expected =
        summaries.length === RELEASES.length &&
        summaries.every(
          (s) =>
            EXPECTED[s.release] === s.outcome &&
            Object.entries(EXPECTED_SERVICES[s.release] ?? {}).every(
              ([service, phase]) => s.services.find((x) => x.service === service)?.outcome === phase,
            ) &&
            (s.mitigation === null || s.mitigation.status === 'restored' || s.mitigation.status === 'ok'),
        );
      const durationMs = Date.now() - started;
      if (json) {
        ctx.io.out(
          `${JSON.stringify({ releases: summaries, load: { sent: report.sent, errors: report.errors, p99Ms: report.latencyMs.p99 }, model, asExpected: expected, durationMs }, null, 2)}\n`,
        );
      } else {
        ctx.io.out(
          formatSummary(
            summaries,
            { sent: report.sent, errors: report.errors, p99Ms: report.latencyMs.p99 },
            durationMs,
          ),
        );
      }
      return expected ? EXIT.ok : EXIT.failure;
    } finally {
      stopLoad.abort();
      ctx.signal.removeEventListener('abort', onAbort);
      say('stopping the shop…\n');
      await serving.stop();
    }
  },
};

/**
 * The demo keeps its own state directory and starts it afresh: the store, the shop's data and the
 * backups of earlier runs are removed (processes of a killed run are still stopped).
 */
function freshDemoState(config: DeploymentConfiguration): DeploymentConfiguration {
  const demo = demoState(config);
  const stateDir = demo.application.stateDir;
  const lock = new StateLock(stateDir);
  lock.acquire();
  lock.release();
  for (const file of ['augur.db', 'augur.db-wal', 'augur.db-shm'])
    rmSync(join(stateDir, file), { force: true });
  for (const dir of ['data', 'backups']) rmSync(join(stateDir, dir), { recursive: true, force: true });
  return demo;
}

/**
 * The shop as the demo runs it: its state in `<state>/demo` (what `augur model status` reads), and
 * the files its services write (payments' orders) in `<state>/demo/data/<service>/`, not in the
 * repository. The releases' backups follow the files they back up, and the shop's check, which
 * takes the database to verify as its argument, is given the new place.
 */
function demoState(config: DeploymentConfiguration): DeploymentConfiguration {
  const app = config.application;
  const stateDir = join(app.stateDir, 'demo');
  const moved = new Map<string, string>();
  const services = Object.fromEntries(
    Object.entries(app.services).map(([name, service]) => {
      if (service.data === undefined) return [name, service];
      const data = Object.fromEntries(
        Object.entries(service.data).map(([variable, file]) => {
          const to = join(stateDir, 'data', name, basename(file));
          moved.set(file, to);
          return [variable, to];
        }),
      );
      return [name, { ...service, data }];
    }),
  );
  return {
    application: { ...app, stateDir, store: { url: `sqlite:${join(stateDir, 'augur.db')}` }, services },
    releases: config.releases.map((r) => ({
      ...r,
      mitigations: r.mitigations.map((m) => relocated(m, moved, applicationDir(app))),
    })),
  };
}

function relocated(
  m: MitigationConfig,
  moved: ReadonlyMap<string, string>,
  baseDir: string,
): MitigationConfig {
  if (m.backup === undefined || !('sqlite' in m.backup)) return m;
  const to = moved.get(resolve(baseDir, m.backup.sqlite));
  if (to === undefined) return m;
  const check =
    m.check !== undefined && 'command' in m.check ? { command: [...m.check.command, to] } : m.check;
  return { ...m, backup: { sqlite: to }, ...(check === undefined ? {} : { check }) };
}

/** The shop as the demo runs it, with the demo's state directory (what `augur model status` reads). */
export async function demoApplication(): Promise<ApplicationConfig> {
  const loaded = await loadConfiguration([join(packageRoot, 'examples', 'shop', 'augur.yaml')], {
    cwd: packageRoot,
  });
  if (!loaded.ok) throw new Error(`the embedded shop does not load: ${formatIssues(loaded.error)}`);
  return demoState(loaded.value).application;
}

/**
 * `augur predict` for one release, shortened for the demo (a 6-second sandbox, two seeds): prints
 * the verdict. A failed prediction is reported and the demo goes on; the rollout does not depend on it.
 */
async function predictForDemo(
  config: DeploymentConfiguration,
  spec: ReleaseConfig,
  rate: number,
  signal: AbortSignal,
  say: (text: string) => void,
  forecaster: ObservedForecaster,
): Promise<DemoReleaseSummary['prediction']> {
  try {
    const { result } = await predictPipeline(config, spec, {
      seeds: 2,
      defaultRatePerSec: rate,
      sandboxSeconds: 6,
      durationSec: 60,
      signal,
      say: (line) => say(`         ${line}\n`),
    });
    say(`  predict ${describe(result, spec.risk).split('\n').slice(0, 3).join('\n  ')}\n`);
    // The rollout's forecasts may adopt these measurements once the canary confirms them.
    forecaster.remember(result.provenance.profiles);
    // The services whose own figures breach in the prediction (its culprits) are held by its risk.
    const blamed = [...(result.culprits ?? [])];
    return { riskScore: result.riskScore, breachTier: result.breachTier, summary: result.summary, blamed };
  } catch (error) {
    if (!signal.aborted) say(`  predict failed: ${(error as Error).message}\n`);
    return null;
  }
}

function aborted(signal: AbortSignal): Promise<'interrupted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('interrupted');
    else signal.addEventListener('abort', () => resolve('interrupted'), { once: true });
  });
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
