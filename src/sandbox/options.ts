import type { ServiceProfile } from '../sim/profile.js';
import type { Store } from '../store/store.js';
import type { StepFigures } from './estimate.js';

export interface SandboxOptions {
  /**
   * The production store, read only: recorded request samples to replay, promoted stable
   * revisions, and the historical peak rate of each changed service. Never written.
   */
  readonly store?: Store;
  /**
   * Data files a service writes that no environment variable of its revisions names (a default
   * compiled into the service): `{ payments: { ORDERS_DB: 'examples/shop/data/orders.db' } }`.
   * The file is copied and the variable set to the copy. Paths resolve from `baseDir`.
   */
  readonly dataFiles?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Path GET per service when no recorded sample exists (instead of capturing through the entrypoint). */
  readonly paths?: Readonly<Record<string, string>>;
  /**
   * Offered rates, req/s to each revision of a changed service (the listener gets twice as much,
   * split between them). Default: ½, 1 and 1.5 × the historical peak, else 20, 40, 80.
   */
  readonly rates?: readonly number[];
  /** Historical peak (req/s) per service; default from the store's metric history. */
  readonly peakRatePerSec?: Readonly<Record<string, number>>;
  /** No rate above this. Default 400. */
  readonly maxRatePerSec?: number;
  /** Length of one rate step (both revisions side by side), whole seconds. Default 5,000 ms. */
  readonly stepMs?: number;
  /** Upper bound of the whole run's load time in seconds: shortens the steps (never below 1 s). */
  readonly maxSeconds?: number;
  /** Quiet window before the load, in which idle CPU is measured. Default 1,000 ms. */
  readonly idleMs?: number;
  /** Unmeasured load at the lowest rate before the steps (JIT, connection pools). Default 500 ms. */
  readonly warmupMs?: number;
  /** Capture through the entrypoint when no sample exists: how long, at what rate. Default 2 s, 20/s. */
  readonly captureMs?: number;
  readonly captureRatePerSec?: number;
  /** Where relative data paths resolve and under which rule-3 copies are made. Default: the revisions' cwd. */
  readonly baseDir?: string;
  /** Parent of the sandbox's temporary directory. Default: the OS temporary directory. */
  readonly tmpDir?: string;
  /** Keep the sandbox's directory (logs, data copies) afterwards. */
  readonly keepDir?: boolean;
  readonly readyTimeoutMs?: number;
  readonly seed?: number;
  /** Stops everything promptly; profileRelease then rejects with SANDBOX_ABORTED. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (message: string) => void;
  /** Called once the sandbox's processes run. */
  readonly onStarted?: (info: { readonly stateDir: string; readonly pids: readonly number[] }) => void;
}

/** One step of one revision, as measured. */
export interface SandboxStep extends StepFigures {
  readonly service: string;
  readonly revision: string;
}

export interface SandboxResult {
  /** Per changed service: its stable revision's profile, then the proposed revision's. */
  readonly profiles: ServiceProfile[];
  /** What was copied, which traffic was sent, what was noticed. */
  readonly notes: string[];
  readonly steps: readonly SandboxStep[];
  /** The sandbox's state directory (removed unless `keepDir`). */
  readonly stateDir: string;
  /** Every process the sandbox started; none is running when profileRelease settles. */
  readonly pids: readonly number[];
  /**
   * Why the sandbox stopped without profiles, when a process of it held a file outside the
   * sandbox open for writing (production data no copy covers); null otherwise.
   */
  readonly refused: string | null;
}
