import { existsSync } from 'node:fs';
import type { ModelStatus } from '../../calibration/status.js';
import { coverageVerdict, modelStatus } from '../../calibration/status.js';
import { openStore, storeFile } from '../../store/open.js';
import type { Command } from '../command.js';
import { EXIT, flag, UsageError } from '../command.js';
import { loadFiles } from '../config-files.js';
import { fixed, plural, table } from '../format.js';
import { demoApplication } from './demo.js';

const when = (ms: number | null): string =>
  ms === null ? '-' : new Date(ms).toISOString().slice(0, 19) + 'Z';
const share = (x: number | null): string =>
  x === null || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`;

export const model: Command = {
  name: 'model',
  summary: 'Show the prediction model: version, data, coverage, risk-score calibration.',
  usage: 'status [FILE…] [--json]',
  description:
    'The model learns, from every metrics window of every revision, how production differs from the\n' +
    'simulation, and gives 90% ranges (docs/model.md). `status` reads the store of the Application in\n' +
    'FILE… (without FILE: the store of the last `augur demo` run) and shows the current model version,\n' +
    'the data it learns from, the coverage of the ranges it gave before each window was observed (per\n' +
    'service and metric, and over time), how risk scores compared with how releases ended (reliability\n' +
    'and the share of bad releases caught when gating the riskiest ones), and the last retraining.',
  options: {
    json: { type: 'boolean', description: 'machine-readable output' },
  },
  positionals: { min: 1, max: Infinity, name: 'status [FILE…]' },
  examples: ['augur model status', 'augur model status examples/shop/augur.yaml --json'],
  async run(ctx) {
    const [action, ...files] = ctx.positionals;
    if (action !== 'status') throw new UsageError(`unknown action "${action ?? ''}": the action is status`);
    const app = files.length === 0 ? await demoApplication() : (await loadFiles(files)).application;
    const url = app.store.url;
    const path = storeFile(url);
    if (path !== null && !existsSync(path)) {
      ctx.io.err(
        `no store at ${path}: ${files.length === 0 ? 'run the demo first (`npm start` or `augur demo`)' : 'start the application first (`augur up`)'}\n`,
      );
      return EXIT.failure;
    }
    const store = openStore(url);
    let status: ModelStatus;
    try {
      status = await modelStatus(store);
    } finally {
      await store.close();
    }
    if (flag(ctx, 'json')) {
      ctx.io.out(
        `${JSON.stringify(status, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
      );
      return EXIT.ok;
    }
    ctx.io.out(render(status));
    return EXIT.ok;
  },
};

function render(s: ModelStatus): string {
  const out: string[] = [];
  const flags: ('low' | 'high' | null)[] = [];
  /** A coverage, marked when it is off the 90% target by more than chance explains. */
  const flagged = (coverage: number | null, n: number): string => {
    const verdict = coverageVerdict(coverage, n);
    flags.push(verdict);
    return verdict === null ? share(coverage) : `${share(coverage)} ! ${verdict}`;
  };
  const c = s.current;
  if (c === null) {
    out.push(
      `model: none trained yet — ${s.data.rows} windows recorded, a metric needs ${s.learnedFrom}; ranges use the`,
      'simulation widened by the cold-start rule meanwhile (docs/model.md)',
    );
  } else {
    out.push(
      `model ${c.id}: trained ${when(c.createdAt)} on ${c.rows} windows (${when(c.trainingSpan.from)} – ${when(c.trainingSpan.to)}) in ${fixed(c.trainSeconds, 1)} s`,
    );
    out.push(
      table(
        ['metric', 'rows', 'held out', 'coverage (90% target)', 'mean width'],
        Object.entries(c.metrics).map(([metric, m]) => [
          metric,
          String(m.rows),
          String(m.validation?.n ?? '-'),
          flagged(m.validation?.coverage ?? null, m.validation?.n ?? 0),
          fixed(m.validation?.meanWidth ?? null, 3),
        ]),
      ).trimEnd(),
    );
  }
  out.push('');
  const services = Object.entries(s.data.perService)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  out.push(
    `data: ${s.data.rows} windows${s.data.span === null ? '' : ` from ${when(s.data.span.from)} to ${when(s.data.span.to)}`}${services === '' ? '' : ` (${services})`}`,
  );
  if (s.coverage.length > 0) {
    out.push('', 'coverage of the ranges given before each window was observed:');
    out.push(
      table(
        [
          'service',
          'metric',
          'windows',
          'covered',
          'by the model',
          'its coverage',
          'over time (oldest first)',
        ],
        s.coverage.map((slice) => [
          slice.service,
          slice.metric,
          String(slice.n),
          flagged(slice.coverage, slice.n),
          String(slice.learned),
          flagged(slice.learnedCoverage, slice.learned),
          slice.overTime.map((p) => share(p.coverage)).join(' '),
        ]),
      ).trimEnd(),
    );
  }
  if (flags.includes('low') || flags.includes('high')) out.push('');
  if (flags.includes('low'))
    out.push(
      '! low: the ranges missed more often than 10% of the time, by more than chance explains over that many windows (more data or a retrain may help)',
    );
  if (flags.includes('high'))
    out.push(
      '! high: the ranges are wider than they need be, by more than chance explains over that many windows',
    );
  out.push(
    '',
    `risk scores: ${plural(s.outcomes.length, 'release')} predicted, ${s.outcomes.filter((o) => o.bad !== null).length} ended`,
  );
  if (s.outcomes.length > 0) {
    out.push(
      table(
        ['release', 'predicted', 'risk', 'outcome'],
        s.outcomes.map((o) => [o.release, when(o.predictedAt), share(o.risk), o.phase ?? 'not rolled out']),
      ).trimEnd(),
    );
  }
  if (s.reliability !== null) {
    out.push('', 'reliability (predicted risk against the share of releases that ended badly):');
    out.push(
      table(
        ['risk bin', 'releases', 'mean risk', 'ended badly'],
        s.reliability.bins
          .filter((b) => b.count > 0)
          .map((b) => [
            `${share(b.from)}–${share(b.to)}`,
            String(b.count),
            share(b.meanPredicted),
            share(b.observedFrequency),
          ]),
      ).trimEnd(),
      `expected calibration error ${fixed(s.reliability.expectedCalibrationError, 3)}, Brier ${fixed(s.reliability.brier, 3)}`,
    );
  }
  if (s.capture !== null) {
    out.push(
      '',
      `capture vs gating: ${s.capture.map((p) => `top ${share(p.share)} → ${share(p.captureRate)}`).join(', ')}`,
    );
  }
  out.push('', `last retrain: ${when(s.lastRetrain)}`);
  return `${out.join('\n')}\n`;
}
