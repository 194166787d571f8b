// Writer process for the crash-safety test: applies the planned changesets forever and prints each revision
// once apply has returned (= committed). The test SIGKILLs it at random moments.
// Usage: node crash-child.entry.js PROJECT_DIR
// It uses the store's own connection setup (openDb) and apply path (applyChangeset) but not project.ts, so
// it starts without loading sharp: the test spawns it 50 times.
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DB } from '../paths';
import { applyChangeset } from './changeset';
import { applyToState, planChangeset, type CrashState } from './crash-plan';
import { openDb, Statements } from './db';
import { migrate } from './migrate';
import { annotationFromRow, type AnnotationRow } from './rows';

const db = openDb(join(process.argv[2], PROJECT_DB));
migrate(db);
const st = new Statements(db);
const revision = () => Number((db.prepare(`SELECT value FROM meta WHERE key = 'revision'`).get() as { value: string }).value);
const state: CrashState = new Map();
for (const r of db.prepare('SELECT * FROM annotations').all() as AnnotationRow[]) state.set(r.id, annotationFromRow(r));
// writeSync: the line is in the pipe before the next transaction starts, whatever stdout buffering does.
writeSync(1, 'ready\n');
for (;;) {
  const r = revision() + 1;
  const cs = planChangeset(r, state);
  const res = applyChangeset(st, cs);
  if (res.revision !== r) throw new Error(`expected revision ${r}, got ${res.revision}`);
  applyToState(state, cs);
  writeSync(1, `${r}\n`);
}
