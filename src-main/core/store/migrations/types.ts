import type { Database } from 'better-sqlite3';

/** One schema step. `up` runs inside the upgrade transaction; it must not commit or change PRAGMAs that cannot roll back. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
