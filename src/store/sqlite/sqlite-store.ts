import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { narrowToOwner } from '../private-files.js';
import type {
  MetricHistoryQuery,
  MetricMinute,
  ProcessRecord,
  ReleaseRecord,
  RequestSample,
  Store,
  StoredEvent,
  TokenRecord,
  TokenRole,
  TrafficRecord,
  ModelRowQuery,
  StoredModelRow,
  StoredModelVersion,
  StoredPrediction,
} from '../store.js';
import { REQUEST_SAMPLES_KEPT } from '../store.js';
import { migrations } from './migrations.js';

interface ProcessRow {
  pid: number;
  service: string;
  revision: string;
  replica: number;
  port: number;
  start_ticks: number;
  owner: string;
  started_at: number;
}

interface TrafficRow {
  service: string;
  stable_revision: string | null;
  canary_revision: string | null;
  canary_weight: number;
  updated_at: number;
}

interface MetricRow {
  service: string;
  revision: string;
  minute: number;
  requests: number;
  errors: number;
  timeouts: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  latency_mean_ms: number | null;
  cpu_cores: number | null;
  rss_bytes: number | null;
  sketch: Buffer | null;
}

interface ReleaseRow {
  name: string;
  application: string;
  phase: string;
  spec: string;
  state: string;
  created_at: number;
  updated_at: number;
}

interface EventRow {
  release: string;
  sequence: number;
  at: number;
  service: string | null;
  type: string;
  signal: string | null;
  message: string;
  data: string;
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
}

interface SampleRow {
  method: string;
  path: string;
  headers_json: string;
  body: Buffer | null;
  recorded_at: number;
}

interface ModelRowRecord {
  service: string;
  revision: string;
  at: number;
  window_ms: number;
  requests: number;
  features_json: string;
  simulated_json: string;
  observed_json: string;
  model_id: string | null;
  ranges_json: string | null;
}

function tokenFromRow(r: TokenRow): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    // The table's CHECK constraint admits only the three roles.
    role: r.role as TokenRole,
    hash: r.hash,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

function releaseFromRow(r: ReleaseRow): ReleaseRecord {
  return {
    name: r.name,
    application: r.application,
    phase: r.phase,
    spec: JSON.parse(r.spec) as unknown,
    state: JSON.parse(r.state) as unknown,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Runs synchronous database work so that its failures reject, as an async store's would. */
function run<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * The database holds the audit log, token hashes and recorded requests: readable by its owner
 * only. A new directory is made 0700 and a new file 0600 before SQLite opens it; SQLite gives its
 * WAL and shared-memory files the database file's mode.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Files an earlier version left with a wider mode are narrowed, when they are ours to change.
  for (const file of [path, `${path}-wal`, `${path}-shm`]) narrowToOwner(file, 0o600);
}

/** The embedded store: one SQLite file in WAL mode, synchronous underneath an async port. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ':memory:') createPrivately(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const current = this.currentVersion();
    const apply = this.db.transaction((m: (typeof migrations)[number]) => {
      this.db.exec(m.sql);
      this.db
        .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
        .run(m.version, m.name, Date.now());
    });
    for (const m of migrations) if (m.version > current) apply.immediate(m);
  }

  private currentVersion(): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number | null;
    };
    return row.v ?? 0;
  }

  schemaVersion(): Promise<number> {
    return run(() => this.currentVersion());
  }

  recordProcess(r: ProcessRecord): Promise<void> {
    return run(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO processes (pid, service, revision, replica, port, start_ticks, owner, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(r.pid, r.service, r.revision, r.replica, r.port, r.startTicks, r.owner, r.startedAt);
    });
  }

  forgetProcess(pid: number): Promise<void> {
    return run(() => {
      this.db.prepare('DELETE FROM processes WHERE pid = ?').run(pid);
    });
  }

  listProcesses(): Promise<ProcessRecord[]> {
    return run(() => this.selectProcesses());
  }

  private selectProcesses(): ProcessRecord[] {
    const rows = this.db.prepare('SELECT * FROM processes ORDER BY started_at').all() as ProcessRow[];
    return rows.map((r) => ({
      pid: r.pid,
      service: r.service,
      revision: r.revision,
      replica: r.replica,
      port: r.port,
      startTicks: r.start_ticks,
      owner: r.owner,
      startedAt: r.started_at,
    }));
  }

  saveTraffic(r: TrafficRecord): Promise<void> {
    return run(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO traffic (service, stable_revision, canary_revision, canary_weight, updated_at)
           VALUES (?, ?, ?, ?, ?)`,
        )
        .run(r.service, r.stableRevision ?? null, r.canaryRevision, r.canaryWeight, r.updatedAt);
    });
  }

  listTraffic(): Promise<TrafficRecord[]> {
    return run(() => this.selectTraffic());
  }

  private selectTraffic(): TrafficRecord[] {
    const rows = this.db.prepare('SELECT * FROM traffic ORDER BY service').all() as TrafficRow[];
    return rows.map((r) => ({
      service: r.service,
      stableRevision: r.stable_revision,
      canaryRevision: r.canary_revision,
      canaryWeight: r.canary_weight,
      updatedAt: r.updated_at,
    }));
  }

  saveRelease(record: ReleaseRecord, events: readonly StoredEvent[]): Promise<void> {
    return run(() => {
      const upsert = this.db.prepare(
        `INSERT INTO releases (name, application, phase, spec, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET phase = excluded.phase, state = excluded.state, updated_at = excluded.updated_at`,
      );
      const insert = this.db.prepare(
        `INSERT INTO release_events (release, sequence, at, service, type, signal, message, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.db
        .transaction(() => {
          upsert.run(
            record.name,
            record.application,
            record.phase,
            JSON.stringify(record.spec),
            JSON.stringify(record.state),
            record.createdAt,
            record.updatedAt,
          );
          for (const e of events) {
            insert.run(
              e.release,
              e.sequence,
              e.at,
              e.service,
              e.type,
              e.signal,
              e.message,
              JSON.stringify(e.data),
            );
          }
        })
        .immediate();
    });
  }

  getRelease(name: string): Promise<ReleaseRecord | null> {
    return run(() => {
      const row = this.db.prepare('SELECT * FROM releases WHERE name = ?').get(name) as
        ReleaseRow | undefined;
      return row === undefined ? null : releaseFromRow(row);
    });
  }

  listReleases(): Promise<ReleaseRecord[]> {
    return run(() =>
      (this.db.prepare('SELECT * FROM releases ORDER BY created_at, name').all() as ReleaseRow[]).map(
        releaseFromRow,
      ),
    );
  }

  releaseEvents(name: string, afterSequence = -1): Promise<StoredEvent[]> {
    return run(() =>
      (
        this.db
          .prepare('SELECT * FROM release_events WHERE release = ? AND sequence > ? ORDER BY sequence')
          .all(name, afterSequence) as EventRow[]
      ).map((r) => ({
        release: r.release,
        sequence: r.sequence,
        at: r.at,
        service: r.service,
        type: r.type,
        signal: r.signal,
        message: r.message,
        data: JSON.parse(r.data) as unknown,
      })),
    );
  }

  saveToken(t: TokenRecord): Promise<void> {
    return run(() => {
      this.db
        .prepare(
          'INSERT INTO tokens (id, name, role, hash, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(t.id, t.name, t.role, t.hash, t.createdAt, t.lastUsedAt);
    });
  }

  touchToken(id: string, at: number): Promise<void> {
    return run(() => {
      this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(at, id);
    });
  }

  findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return run(() => {
      const row = this.db.prepare('SELECT * FROM tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
      return row === undefined ? null : tokenFromRow(row);
    });
  }

  listTokens(): Promise<TokenRecord[]> {
    return run(() =>
      (this.db.prepare('SELECT * FROM tokens ORDER BY created_at, id').all() as TokenRow[]).map(tokenFromRow),
    );
  }

  revokeToken(id: string): Promise<boolean> {
    return run(() => this.db.prepare('DELETE FROM tokens WHERE id = ?').run(id).changes > 0);
  }

  saveMetricMinutes(rows: readonly MetricMinute[]): Promise<void> {
    return run(() => this.insertMinutes(rows));
  }

  private insertMinutes(rows: readonly MetricMinute[]): void {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO metric_minutes (service, revision, minute, requests, errors, timeouts,
         latency_p50_ms, latency_p95_ms, latency_p99_ms, latency_mean_ms, cpu_cores, rss_bytes, sketch)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const m of rows) {
        insert.run(
          m.service,
          m.revision,
          m.minute,
          m.requests,
          m.errors,
          m.timeouts,
          m.latencyP50Ms,
          m.latencyP95Ms,
          m.latencyP99Ms,
          m.latencyMeanMs,
          m.cpuCores,
          m.rssBytes,
          m.sketch === null ? null : Buffer.from(m.sketch),
        );
      }
    })();
  }

  metricHistory(q: MetricHistoryQuery): Promise<MetricMinute[]> {
    return run(() => this.selectHistory(q));
  }

  private selectHistory(q: MetricHistoryQuery): MetricMinute[] {
    const filters: [string, string | number | undefined][] = [
      ['service = ?', q.service],
      ['revision = ?', q.revision],
      ['minute >= ?', q.from],
      ['minute < ?', q.to],
    ];
    const active = filters.filter((f): f is [string, string | number] => f[1] !== undefined);
    const where = active.map(([clause]) => clause);
    const args = active.map(([, value]) => value);
    const sql = `SELECT * FROM metric_minutes ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY minute, service, revision`;
    const rows = this.db.prepare(sql).all(...args) as MetricRow[];
    return rows.map((r) => ({
      service: r.service,
      revision: r.revision,
      minute: r.minute,
      requests: r.requests,
      errors: r.errors,
      timeouts: r.timeouts,
      latencyP50Ms: r.latency_p50_ms,
      latencyP95Ms: r.latency_p95_ms,
      latencyP99Ms: r.latency_p99_ms,
      latencyMeanMs: r.latency_mean_ms,
      cpuCores: r.cpu_cores,
      rssBytes: r.rss_bytes,
      sketch: r.sketch === null ? null : new Uint8Array(r.sketch),
    }));
  }

  saveRequestSamples(
    service: string,
    samples: readonly RequestSample[],
    keep: number = REQUEST_SAMPLES_KEPT,
  ): Promise<void> {
    return run(() => {
      const insert = this.db.prepare(
        `INSERT INTO request_samples (service, method, path, headers_json, body, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      // Everything of the service past its newest `keep` rows goes.
      const trim = this.db.prepare(
        `DELETE FROM request_samples WHERE service = ? AND id NOT IN (
           SELECT id FROM request_samples WHERE service = ? ORDER BY recorded_at DESC, id DESC LIMIT ?)`,
      );
      this.db.transaction(() => {
        for (const r of samples) {
          insert.run(
            service,
            r.method,
            r.path,
            JSON.stringify(r.headers),
            r.body === null ? null : Buffer.from(r.body),
            r.recordedAt,
          );
        }
        trim.run(service, service, Math.max(0, Math.floor(keep)));
      })();
    });
  }

  requestSamples(service: string, limit: number): Promise<RequestSample[]> {
    return run(() => {
      const rows = this.db
        .prepare(
          `SELECT method, path, headers_json, body, recorded_at FROM request_samples WHERE service = ?
           ORDER BY recorded_at DESC, id DESC LIMIT ?`,
        )
        .all(service, Math.max(0, Math.floor(limit))) as SampleRow[];
      return rows.reverse().map((r) => ({
        method: r.method,
        path: r.path,
        headers: JSON.parse(r.headers_json) as Record<string, string>,
        body: r.body === null ? null : new Uint8Array(r.body),
        recordedAt: r.recorded_at,
      }));
    });
  }

  saveModelRows(rows: readonly StoredModelRow[]): Promise<void> {
    return run(() => {
      const insert = this.db.prepare(
        `INSERT INTO model_rows (service, revision, at, window_ms, requests, features_json, simulated_json,
           observed_json, model_id, ranges_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.db.transaction(() => {
        for (const r of rows) {
          insert.run(
            r.service,
            r.revision,
            r.at,
            r.windowMs,
            r.requests,
            JSON.stringify(r.features),
            JSON.stringify(r.simulated),
            JSON.stringify(r.observed),
            r.modelId,
            r.ranges === null ? null : JSON.stringify(r.ranges),
          );
        }
      })();
    });
  }

  modelRows(query: ModelRowQuery = {}): Promise<StoredModelRow[]> {
    return run(() => {
      const limit = query.limit === undefined ? -1 : Math.max(0, Math.floor(query.limit));
      const rows = this.db
        .prepare(
          `SELECT * FROM model_rows WHERE at >= ? AND at < ? ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
        )
        .all(
          query.from ?? Number.MIN_SAFE_INTEGER,
          query.to ?? Number.MAX_SAFE_INTEGER,
          limit,
          Math.max(0, Math.floor(query.offset ?? 0)),
        ) as ModelRowRecord[];
      return rows.reverse().map((r) => ({
        service: r.service,
        revision: r.revision,
        at: r.at,
        windowMs: r.window_ms,
        requests: r.requests,
        features: JSON.parse(r.features_json) as number[],
        simulated: JSON.parse(r.simulated_json) as Record<string, number | null>,
        observed: JSON.parse(r.observed_json) as Record<string, number | null>,
        modelId: r.model_id,
        ranges: r.ranges_json === null ? null : (JSON.parse(r.ranges_json) as StoredModelRow['ranges']),
      }));
    });
  }

  countModelRows(since?: number): Promise<number> {
    return run(() => {
      const row = this.db
        .prepare('SELECT COUNT(*) AS n FROM model_rows WHERE at >= ?')
        .get(since ?? Number.MIN_SAFE_INTEGER) as { n: number };
      return row.n;
    });
  }

  saveModelVersion(version: StoredModelVersion): Promise<void> {
    return run(() => {
      this.db
        .prepare(
          `INSERT INTO model_versions (id, created_at, summary_json, body_json) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
        )
        .run(version.id, version.createdAt, JSON.stringify(version.summary), JSON.stringify(version.body));
    });
  }

  listModelVersions(withBodies = false): Promise<StoredModelVersion[]> {
    return run(() => {
      const rows = this.db
        .prepare(
          `SELECT id, created_at, summary_json${withBodies ? ', body_json' : ''} FROM model_versions
           ORDER BY created_at DESC, rowid DESC`,
        )
        .all() as { id: string; created_at: number; summary_json: string; body_json?: string }[];
      return rows.map((r) => ({
        id: r.id,
        createdAt: r.created_at,
        summary: JSON.parse(r.summary_json) as unknown,
        body: r.body_json === undefined ? null : (JSON.parse(r.body_json) as unknown),
      }));
    });
  }

  latestModelVersion(): Promise<StoredModelVersion | null> {
    return run(() => {
      const r = this.db
        .prepare(
          'SELECT id, created_at, summary_json, body_json FROM model_versions ORDER BY created_at DESC, rowid DESC LIMIT 1',
        )
        .get() as { id: string; created_at: number; summary_json: string; body_json: string } | undefined;
      if (r === undefined) return null;
      return {
        id: r.id,
        createdAt: r.created_at,
        summary: JSON.parse(r.summary_json) as unknown,
        body: JSON.parse(r.body_json) as unknown,
      };
    });
  }

  saveCalibrationState(metric: string, modelId: string, state: unknown, at: number): Promise<void> {
    return run(() => {
      this.db
        .prepare(
          `INSERT INTO model_calibration (metric, model_id, state_json, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (metric) DO UPDATE SET model_id = excluded.model_id, state_json = excluded.state_json,
           updated_at = excluded.updated_at`,
        )
        .run(metric, modelId, JSON.stringify(state), at);
    });
  }

  calibrationStates(): Promise<{ metric: string; modelId: string; state: unknown; updatedAt: number }[]> {
    return run(() =>
      (
        this.db.prepare('SELECT * FROM model_calibration ORDER BY metric').all() as {
          metric: string;
          model_id: string;
          state_json: string;
          updated_at: number;
        }[]
      ).map((r) => ({
        metric: r.metric,
        modelId: r.model_id,
        state: JSON.parse(r.state_json) as unknown,
        updatedAt: r.updated_at,
      })),
    );
  }

  savePrediction(prediction: StoredPrediction): Promise<void> {
    return run(() => {
      this.db
        .prepare(
          `INSERT INTO predictions (release, predicted_at, risk, breach_tier, model_id) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (release, predicted_at) DO UPDATE SET risk = excluded.risk,
           breach_tier = excluded.breach_tier, model_id = excluded.model_id`,
        )
        .run(
          prediction.release,
          prediction.predictedAt,
          prediction.risk,
          prediction.breachTier,
          prediction.modelId,
        );
    });
  }

  listPredictions(): Promise<StoredPrediction[]> {
    return run(() =>
      (
        this.db.prepare('SELECT * FROM predictions ORDER BY predicted_at, release').all() as {
          release: string;
          predicted_at: number;
          risk: number;
          breach_tier: number | null;
          model_id: string | null;
        }[]
      ).map((r) => ({
        release: r.release,
        predictedAt: r.predicted_at,
        risk: r.risk,
        breachTier: r.breach_tier,
        modelId: r.model_id,
      })),
    );
  }

  close(): Promise<void> {
    return run(() => {
      if (this.db.open) this.db.close();
    });
  }
}
