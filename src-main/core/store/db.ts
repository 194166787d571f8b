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
   * NORMAL is the default. In WAL mode it never corrupts the database: a commit is in the WAL (the OS page
   * cache) before apply() returns, so a killed or crashed app loses nothing (the crash-safety test SIGKILLs a
   * writer to prove it); only an OS crash or power cut can drop the last few commits, because the WAL is
   * fsynced at checkpoints rather than per commit. FULL fsyncs every commit and costs milliseconds per edit
   * on slow disks, which labelling (one changeset per box) would feel.
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
    db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
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
