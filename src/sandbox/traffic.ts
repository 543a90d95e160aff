/**
 * The traffic the sandbox sends to a service's listener: recorded requests replayed round-robin,
 * or GETs of one path through the load generator. Both are open loop (Poisson arrivals at the
 * step's rate), bounded in time and in requests in flight, and stop at once on abort.
 */
import { Agent, request } from 'node:http';
import type { ClientRequest } from 'node:http';
import type { ApplicationConfig, ReleaseConfig } from '../config/types.js';
import { SeededRandom } from '../core/random.js';
import { nextArrivalMs, runLoad } from '../load/index.js';
import { KEY_HEADER } from '../router/builtin/request-key.js';
import type { DataPlane } from '../server/dataplane.js';
import type { RequestSample } from '../store/store.js';
import type { SandboxOptions } from './options.js';

export interface DriveResult {
  readonly sent: number;
  readonly completed: number;
  /** 5xx answers and failed requests. */
  readonly errors: number;
}

/** Sends traffic at `rate` req/s for `durationMs`, then waits for the answers. */
export type Driver = (rate: number, durationMs: number, signal: AbortSignal) => Promise<DriveResult>;

/** Where the traffic of a service comes from, for the notes. */
export type TrafficSource =
  | { readonly kind: 'recorded'; readonly samples: readonly RequestSample[] }
  | { readonly kind: 'captured'; readonly samples: readonly RequestSample[] }
  | { readonly kind: 'path'; readonly path: string };

const MAX_IN_FLIGHT = 256;
/** Recorded requests read from the store. */
const SAMPLES_READ = 1000;
const USERS = 1000;

export function driverFor(source: TrafficSource, port: number, seed: number): Driver {
  if (source.kind === 'path') {
    return async (rate, durationMs, signal) => {
      const report = await runLoad({
        target: `http://127.0.0.1:${port}/`,
        path: source.path,
        rate,
        durationMs,
        seed,
        users: USERS,
        maxInFlight: MAX_IN_FLIGHT,
        timeoutMs: 30_000,
        signal,
      });
      return { sent: report.sent, completed: report.completed, errors: report.errors };
    };
  }
  let next = 0;
  const samples = source.samples;
  return (rate, durationMs, signal) =>
    replay(port, rate, durationMs, signal, seed, () => {
      const sample = samples[next % samples.length] as RequestSample;
      next++;
      return sample;
    });
}

/** Open-loop replay: each arrival sends the next recorded request. */
function replay(
  port: number,
  rate: number,
  durationMs: number,
  signal: AbortSignal,
  seed: number,
  nextSample: () => RequestSample,
): Promise<DriveResult> {
  const random = new SeededRandom(seed);
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const inFlight = new Set<ClientRequest>();
  const profile = { kind: 'constant', rate } as const;
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const start = performance.now();

  return new Promise<DriveResult>((resolve) => {
    const finish = (): void => {
      if (!stopped || inFlight.size > 0) return;
      signal.removeEventListener('abort', abort);
      agent.destroy();
      resolve({ sent, completed, errors });
    };
    const abort = (): void => {
      stopped = true;
      clearTimeout(timer);
      for (const req of [...inFlight]) req.destroy(new Error('sandbox stopped'));
      finish();
    };
    const send = (): void => {
      const sample = nextSample();
      const headers: Record<string, string> = { ...sample.headers, [KEY_HEADER]: `sandbox-${sent % USERS}` };
      if (sample.body !== null) headers['content-length'] = String(sample.body.length);
      sent++;
      let done = false;
      const req = request({
        host: '127.0.0.1',
        port,
        method: sample.method,
        path: sample.path,
        headers,
        agent,
      });
      const end = (failed: boolean): void => {
        if (done) return;
        done = true;
        if (failed) errors++;
        inFlight.delete(req);
        finish();
      };
      inFlight.add(req);
      req.on('response', (res) => {
        res.on('end', () => {
          completed++;
          end((res.statusCode ?? 0) >= 500);
        });
        res.on('error', () => end(true));
        res.resume();
      });
      req.on('error', () => end(true));
      req.on('close', () => end(true));
      req.end(sample.body === null ? undefined : Buffer.from(sample.body));
    };
    let nextAt = nextArrivalMs(profile, random, 0, durationMs);
    const tick = (): void => {
      const now = performance.now() - start;
      while (nextAt <= now) {
        if (inFlight.size < MAX_IN_FLIGHT) send();
        nextAt = nextArrivalMs(profile, random, nextAt, durationMs);
      }
      if (nextAt === Infinity || now >= durationMs) {
        stopped = true;
        finish();
        return;
      }
      timer = setTimeout(tick, Math.max(0, nextAt - now));
    };
    if (signal.aborted) {
      abort();
      return;
    }
    signal.addEventListener('abort', abort, { once: true });
    tick();
  });
}

/** Per changed service: recorded requests, a path to GET, or null (capture through the entrypoint). */
export async function trafficSources(
  app: ApplicationConfig,
  release: ReleaseConfig,
  options: SandboxOptions,
): Promise<Map<string, TrafficSource | null>> {
  const out = new Map<string, TrafficSource | null>();
  for (const { service } of release.changes) {
    const recorded = (await options.store?.requestSamples(service, SAMPLES_READ)) ?? [];
    const path = options.paths?.[service];
    if (recorded.length > 0) out.set(service, { kind: 'recorded', samples: recorded });
    else if (path !== undefined) out.set(service, { kind: 'path', path });
    else if (service === app.entrypoint) out.set(service, { kind: 'path', path: '/' });
    else out.set(service, null);
  }
  return out;
}

/**
 * With no recorded sample, the sandbox's own router records one: the entrypoint gets the load
 * generator's traffic, and the requests that reach each service are what it replays.
 */
export async function captureThroughEntrypoint(
  plane: DataPlane,
  app: ApplicationConfig,
  services: readonly string[],
  options: SandboxOptions,
  signal: AbortSignal,
  say: (message: string) => void,
): Promise<Map<string, TrafficSource>> {
  const entry = app.entrypoint;
  const rate = options.captureRatePerSec ?? 20;
  const durationMs = options.captureMs ?? 2_000;
  const path = options.paths?.[entry] ?? '/';
  say(
    `no recorded requests for ${services.join(', ')}: recording what ${entry} sends them (GET ${path}, ${rate}/s)`,
  );
  plane.router.takeSamples();
  await runLoad({
    target: `http://127.0.0.1:${plane.router.address(entry).port}/`,
    path,
    rate,
    durationMs,
    seed: options.seed ?? 1,
    signal,
  });
  signal.throwIfAborted();
  const taken = plane.router.takeSamples();
  const out = new Map<string, TrafficSource>();
  for (const service of services) {
    const samples: RequestSample[] = taken.get(service) ?? [];
    out.set(service, samples.length > 0 ? { kind: 'captured', samples } : { kind: 'path', path: '/' });
  }
  return out;
}

export function describeSource(source: TrafficSource): string {
  switch (source.kind) {
    case 'recorded':
      return `replayed ${source.samples.length} recorded production requests`;
    case 'captured':
      return `replayed ${source.samples.length} requests recorded through the entrypoint (no production sample)`;
    case 'path':
      return `GET ${source.path} (no recorded requests)`;
  }
}
