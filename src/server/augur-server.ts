import { sequentialAnalysis } from '../controller/analysis/sequential.js';
import { RolloutController } from '../controller/controller.js';
import type { ReleaseEvent } from '../controller/core/events.js';
import type { ControllerSettings } from '../controller/core/release.js';
import { StableBaselineSource } from '../controller/predicted/source.js';
import { ObservedForecaster } from '../predict/forecast.js';
import type { IngestOptions } from '../calibration/ingest.js';
import { WindowIngestor } from '../calibration/ingest.js';
import { ModelPredictionSource } from '../calibration/prediction-source.js';
import { ModelService } from '../calibration/service.js';
import { MitigationRunner } from '../mitigation/runner.js';
import type { ApplicationConfig, ReleaseConfig } from '../config/types.js';
import { applicationDir } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { AugurError } from '../core/errors.js';
import { ControlApi } from './api.js';
import type { DataPlaneEvent } from './dataplane.js';
import { DataPlane } from './dataplane.js';
import { EventHub } from './event-hub.js';
import type { ApiLimits } from './limits.js';
import { publishServer, unpublishServer } from './local-access.js';
import { ServerMetrics } from './server-metrics.js';
import { TokenAuthority } from './tokens.js';

export interface AugurServerOptions {
  readonly app: ApplicationConfig;
  /** Releases declared in the server's own files: the mitigations a posted release may use. */
  readonly releases?: readonly ReleaseConfig[];
  /** Address of the API; loopback by default. The services' listeners stay on loopback. */
  readonly host?: string;
  /** Port of the API; 0 = any free port. */
  readonly port?: number;
  /** Reads without a token (see ControlApiOptions.openReads). */
  readonly openReads?: boolean;
  /** Run the rollout controller: resume running releases and accept new ones. */
  readonly runReleases?: boolean;
  /** Write server.json and the local admin token into the state directory. Default true. */
  readonly publish?: boolean;
  readonly onPlaneEvent?: (event: DataPlaneEvent) => void;
  readonly onReleaseEvent?: (event: ReleaseEvent) => void;
  readonly clock?: Clock;
  readonly controllerSettings?: ControllerSettings;
  /** Overrides of the API's time-outs and stream limits. */
  readonly apiLimits?: Partial<ApiLimits>;
  /** Where the API reports internal errors; stderr by default. */
  readonly apiLog?: (line: string) => void;
  /** Test hook, passed to the data plane: replaces the configured service ports. */
  readonly portOverride?: (service: string) => number;
  /**
   * How the model learns from production (with `runReleases`): the rows' windows and the profile
   * before them, how many rows a first model needs, and where its progress lines go. The demo
   * compresses time with these.
   */
  readonly learning?: {
    readonly ingest?: IngestOptions;
    readonly learnedFrom?: number;
    readonly say?: (line: string) => void;
  };
}

export interface AugurServer {
  readonly plane: DataPlane;
  readonly controller: RolloutController | null;
  /** The model learning from production, and the forecaster re-predicting with it (with `runReleases`). */
  readonly models: ModelService | null;
  readonly forecaster: ObservedForecaster | null;
  readonly hub: EventHub;
  readonly url: string;
  /** The admin token for CLI commands on this machine ('' when not published). */
  readonly localToken: string;
  /** Releases picked up from the store, where an earlier run left them. */
  readonly resumed: readonly string[];
  stop(): Promise<void>;
}

/**
 * One running Augur: the data plane, the rollout controller over the same store, and the API,
 * wired together. `augur server`, `augur up`, `augur demo` and `augur rollout --embedded` all
 * start this, with different options — one code path.
 */
export async function startAugurServer(options: AugurServerOptions): Promise<AugurServer> {
  const { app } = options;
  const clock = options.clock ?? systemClock;
  const hub = new EventHub();
  const metrics = new ServerMetrics(clock.now());
  hub.subscribe(({ event }) => metrics.onReleaseEvent(event));
  if (options.onReleaseEvent !== undefined) {
    const observer = options.onReleaseEvent;
    hub.subscribe(({ event }) => observer(event));
  }
  const plane = await DataPlane.start({
    app,
    clock,
    onEvent: (event) => {
      metrics.onPlaneEvent(event);
      options.onPlaneEvent?.(event);
    },
    ...(options.portOverride !== undefined ? { portOverride: options.portOverride } : {}),
  });

  let controller: RolloutController | null = null;
  let api: ControlApi | null = null;
  let models: ModelService | null = null;
  let forecaster: ObservedForecaster | null = null;
  let localToken = '';
  const publish = options.publish ?? true;
  try {
    if (options.runReleases === true) {
      // The prediction model learns from production all the time, not only during rollouts.
      const learning = options.learning ?? {};
      models = await ModelService.open({
        store: plane.store,
        clock,
        ingestor: new WindowIngestor(plane.application, plane.provider, learning.ingest),
        ...(learning.learnedFrom !== undefined ? { learnedFrom: learning.learnedFrom } : {}),
        ...(learning.say !== undefined ? { say: learning.say } : {}),
      });
      const ranges = models;
      forecaster = new ObservedForecaster(plane.application, plane.provider, {
        calibration: () => ranges.ranges(),
      });
      const profileWindowMs = learning.ingest?.profileWindowMs;
      controller = new RolloutController({
        store: plane.store,
        plane,
        analysis: (release) => sequentialAnalysis(app, release),
        prediction: new ModelPredictionSource(
          plane.provider,
          () => ranges.ranges(),
          new StableBaselineSource(plane.provider),
          profileWindowMs !== undefined ? { profileWindowMs } : {},
        ),
        forecaster,
        clock,
        mitigations: new MitigationRunner({ stateDir: app.stateDir, baseDir: applicationDir(app) }),
        onEvent: (event) => hub.publish(event),
        ...(options.controllerSettings !== undefined ? { settings: options.controllerSettings } : {}),
      });
    }
    const resumed = controller === null ? [] : await controller.resume();
    models?.start();
    api = new ControlApi({
      plane,
      controller,
      hub,
      metrics,
      policy: { application: app, releases: options.releases ?? [] },
      auth: new TokenAuthority(
        plane.store,
        () => localToken,
        () => clock.now(),
      ),
      openReads: options.openReads ?? false,
      ...(options.apiLimits !== undefined ? { limits: options.apiLimits } : {}),
      ...(options.apiLog !== undefined ? { log: options.apiLog } : {}),
    });
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    const url = await api.listen(port, host).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new AugurError(
          'API_LISTEN_FAILED',
          `cannot listen on ${host}:${port} (${code}): choose another`,
          {
            cause: error,
          },
        );
      }
      throw error;
    });
    if (publish) {
      localToken = publishServer(app.stateDir, {
        url,
        pid: process.pid,
        application: app.name,
        startedAt: clock.now(),
      });
    }
    let stopped = false;
    const running = { controller, api };
    return {
      plane,
      controller,
      models,
      forecaster,
      hub,
      url,
      localToken,
      resumed,
      async stop() {
        if (stopped) return;
        stopped = true;
        if (publish) unpublishServer(app.stateDir);
        await models?.stop();
        await running.api.close();
        await running.controller?.close();
        await plane.stop();
      },
    };
  } catch (error) {
    await models?.stop();
    await api?.close();
    await controller?.close();
    await plane.stop();
    throw error;
  }
}
