/**
 * Versioned schema migrations. Append only: a migration that shipped is never edited, so every
 * database can be brought forward from whatever version it is at.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'processes, traffic and metric history',
    sql: `
      CREATE TABLE processes (
        pid INTEGER PRIMARY KEY,
        service TEXT NOT NULL,
        revision TEXT NOT NULL,
        replica INTEGER NOT NULL,
        port INTEGER NOT NULL,
        start_ticks INTEGER NOT NULL,
        owner TEXT NOT NULL,
        started_at INTEGER NOT NULL
      );
      CREATE TABLE traffic (
        service TEXT PRIMARY KEY,
        canary_revision TEXT,
        canary_weight INTEGER NOT NULL CHECK (canary_weight BETWEEN 0 AND 10000),
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE metric_minutes (
        service TEXT NOT NULL,
        revision TEXT NOT NULL,
        minute INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        timeouts INTEGER NOT NULL,
        latency_p50_ms REAL,
        latency_p95_ms REAL,
        latency_p99_ms REAL,
        latency_mean_ms REAL,
        cpu_cores REAL,
        rss_bytes REAL,
        sketch BLOB,
        PRIMARY KEY (service, revision, minute)
      );
      CREATE INDEX metric_minutes_by_time ON metric_minutes (minute);
    `,
  },
  {
    version: 2,
    name: 'releases, their events, and the stable revision of each service',
    sql: `
      ALTER TABLE traffic ADD COLUMN stable_revision TEXT;
      CREATE TABLE releases (
        name TEXT PRIMARY KEY,
        application TEXT NOT NULL,
        phase TEXT NOT NULL,
        spec TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE release_events (
        release TEXT NOT NULL REFERENCES releases (name),
        sequence INTEGER NOT NULL,
        at INTEGER NOT NULL,
        service TEXT,
        type TEXT NOT NULL,
        signal TEXT,
        message TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (release, sequence)
      );
    `,
  },
  {
    version: 3,
    name: 'API tokens, stored as SHA-256 hashes only',
    sql: `
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER
      );
    `,
  },
  {
    version: 4,
    name: 'a bounded sample of recorded requests per service, for sandbox replay',
    sql: `
      CREATE TABLE request_samples (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        service TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        headers_json TEXT NOT NULL,
        body BLOB,
        recorded_at INTEGER NOT NULL
      );
      CREATE INDEX request_samples_by_service ON request_samples (service, recorded_at, id);
    `,
  },
  {
    version: 5,
    name: 'prediction model: training rows, versions, adaptive calibration state, predictions made',
    sql: `
      CREATE TABLE model_rows (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        service TEXT NOT NULL,
        revision TEXT NOT NULL,
        at INTEGER NOT NULL,
        window_ms INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        features_json TEXT NOT NULL,
        simulated_json TEXT NOT NULL,
        observed_json TEXT NOT NULL,
        model_id TEXT,
        ranges_json TEXT
      );
      CREATE INDEX model_rows_by_time ON model_rows (at, id);
      CREATE TABLE model_versions (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        summary_json TEXT NOT NULL,
        body_json TEXT NOT NULL
      );
      CREATE INDEX model_versions_by_time ON model_versions (created_at);
      CREATE TABLE model_calibration (
        metric TEXT PRIMARY KEY,
        model_id TEXT NOT NULL,
        state_json TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE predictions (
        release TEXT NOT NULL,
        predicted_at INTEGER NOT NULL,
        risk REAL NOT NULL,
        breach_tier REAL,
        model_id TEXT,
        PRIMARY KEY (release, predicted_at)
      );
    `,
  },
];
