// Brings a project database to this app's schema version in ONE transaction, or refuses a newer one.
import type { Database } from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index';

export class NewerSchemaError extends Error {
  constructor(readonly found: number, readonly supported: number) {
    super(`this project was written by a newer HST Studio (schema ${found} > ${supported}); update the app`);
    this.name = 'NewerSchemaError';
  }
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Returns the version the database had before. Throws NewerSchemaError without touching anything. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const target = migrations.length ? migrations[migrations.length - 1].version : 0;
  const from = schemaVersion(db);
  if (from > target) throw new NewerSchemaError(from, target);
  if (from === target) return from;
  // user_version lives in the database header and is rolled back with the transaction, so a failed step leaves
  // the project exactly at its old version.
  db.transaction(() => {
    for (const m of migrations) {
      if (m.version <= from) continue;
      try {
        m.up(db);
      } catch (err) {
        throw new Error(`upgrading the project to schema ${m.version} (${m.name}) failed: ${(err as Error).message}`);
      }
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
  return from;
}
