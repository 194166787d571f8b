// Writer process for the crash-safety test: applies the planned changesets forever and prints each revision
// once apply() has returned (= committed). The test SIGKILLs it at random moments.
// Usage: node crash-child.entry.js PROJECT_DIR
import { writeSync } from 'node:fs';
import { annotationFromRow, type AnnotationRow } from './rows';
import { applyToState, planChangeset, type CrashState } from './crash-plan';
import { openProject } from './project';

const store = openProject(process.argv[2]);
const state: CrashState = new Map();
for (const r of store.db.prepare('SELECT * FROM annotations').all() as AnnotationRow[]) state.set(r.id, annotationFromRow(r));
// writeSync: the line is in the pipe before the next transaction starts, whatever stdout buffering does.
writeSync(1, 'ready\n');
for (;;) {
  const r = store.revision() + 1;
  const cs = planChangeset(r, state);
  const res = store.apply(cs);
  if (res.revision !== r) throw new Error(`expected revision ${r}, got ${res.revision}`);
  applyToState(state, cs);
  writeSync(1, `${r}\n`);
}
