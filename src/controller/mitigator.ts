import type { MitigationConfig } from '../config/types.js';
import type { DiscardedChanges } from './core/types.js';

export type { DiscardedChanges };

/** A backup taken before a release's first tier. */
export interface BackupRecord {
  readonly name: string;
  /** The backup file (SQLite copy, pg_dump archive) or the directory a backup command wrote into. */
  readonly path: string;
  readonly takenAt: number;
}

/** What one check or restore did, for the release's events. */
export interface StepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** A restore's: what it discarded (absent for checks and failed restores). */
  readonly discarded?: DiscardedChanges;
}

/**
 * The port through which the controller runs a release's mitigations (src/mitigation/runner.ts
 * implements it): backups before the first tier, checks after a rollback, restores.
 */
export interface Mitigator {
  backup(release: string, mitigations: readonly MitigationConfig[], now: number): Promise<BackupRecord[]>;
  check(mitigations: readonly MitigationConfig[]): Promise<StepResult[]>;
  restore(mitigations: readonly MitigationConfig[], backups: readonly BackupRecord[]): Promise<StepResult[]>;
}
