// Opening a project database with the settings every connection needs, and a prepared-statement cache.
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { resolveNativeBinding } from './native-binding';

export type Synchronous = 'NORMAL' | 'FULL';

/** ~40 MB of WAL at the default 4 KiB page size. */
export const WAL_BACKSTOP_PAGES = 10_000;
/** Checkpoint this long after the last write. */
export const IDLE_CHECKPOINT_MS = 1500;

export interface OpenDbOptions {
  readonly?: boolean;
  /**
   * FULL is the default: every commit (one per applied changeset) is fsynced before apply() returns, so an
   * acknowledged label survives a power cut or an OS crash as well as a killed app. NORMAL in WAL mode survives a
   * killed or crashed app but can drop the last commits on power loss (the WAL is fsynced only at checkpoints).
   * bench/results/store.md: p99 of a 1-annotation changeset 0.38 ms with FULL, 0.28 ms with NORMAL. NORMAL stays
   * available for bulk work that can be redone (tests, benchmarks).
   */
  synchronous?: Synchronous;
}

export function openDb(file: string, opts: OpenDbOptions = {}): Db {
  // Under Electron the addon must be the Electron-ABI build (native-binding.ts); under Node, npm's own.
  const nativeBinding = resolveNativeBinding();
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: false, ...(nativeBinding ? { nativeBinding } : {}) });
  try {
    // A second app instance (or the trainer) may hold the write lock briefly: wait instead of failing.
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    // SQLite's default checkpoints the WAL inside whichever commit crosses 1000 pages, and that checkpoint
    // fsyncs: an occasional edit then takes several ms. The store checkpoints when writes pause instead
    // (project.ts); this larger threshold is only the backstop for a writer that never pauses.
    if (!opts.readonly) db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Prepares each SQL text once per connection; statements are reused for the life of the connection. */
export class Statements {
  private readonly cache = new Map<string, Statement>();
  constructor(readonly db: Db) {}
  get<P extends unknown[] | {} = unknown[], R = unknown>(sql: string): Statement<P, R> {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s as unknown as Statement<P, R>;
  }
}
