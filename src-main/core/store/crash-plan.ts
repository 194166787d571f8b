// The deterministic edit sequence of the crash-safety test (test/integration/crash-safety.test.ts): the
// changeset for revision r depends only on r and the state before it, so the test can recompute exactly what
// the database must contain at any revision the killed writer reached.
import type { Annotation, Changeset } from '../../contract/schemas';

export const CRASH_IMAGES = 4;
export const CRASH_CLASS = 1;
/** Revision 1 creates the class; the writer's changesets start at 2. */
export const CRASH_FIRST = 2;

export type CrashState = Map<string, Annotation>;

const ann = (id: string, r: number, j: number): Annotation => ({
  id,
  imageId: (r % CRASH_IMAGES) + 1,
  classId: CRASH_CLASS,
  // inside the test's 100×100 images: the store refuses geometry that lies outside its image
  geometry: { kind: 'box', x: r % 64, y: j, w: 10 + j, h: 5 },
  source: 'human',
  score: null,
  modelVersion: null,
  createdAt: r,
  updatedAt: r,
});

/** The changeset that takes `state` (at revision r-1) to revision r. Several rows each, so kills land mid-write. */
export function planChangeset(r: number, state: CrashState): Changeset {
  const created = Array.from({ length: 8 }, (_, j) => ann(`c${r}-${j}`, r, j));
  const updated: Changeset['updated'] = [];
  const deleted: Annotation[] = [];
  if (r % 3 === 0) {
    for (let j = 0; j < 8; j++) {
      const before = state.get(`c${r - 2}-${j}`);
      if (before) updated.push({ before, after: { ...before, geometry: { kind: 'box', x: before.geometry.kind === 'box' ? (before.geometry.x + 13) % 64 : 0, y: 1, w: 2, h: 3 }, updatedAt: r } });
    }
  }
  if (r % 4 === 0) {
    for (let j = 0; j < 8; j += 2) {
      const gone = state.get(`c${r - 5}-${j}`);
      if (gone) deleted.push(gone);
    }
  }
  return { created, updated, deleted, label: `crash ${r}` };
}

export function applyToState(state: CrashState, cs: Changeset): void {
  for (const a of cs.deleted) state.delete(a.id);
  for (const u of cs.updated) state.set(u.after.id, u.after);
  for (const a of cs.created) state.set(a.id, a);
}

/** The state the database must hold at `revision`. */
export function expectedState(revision: number): CrashState {
  const s: CrashState = new Map();
  for (let r = CRASH_FIRST; r <= revision; r++) applyToState(s, planChangeset(r, s));
  return s;
}
