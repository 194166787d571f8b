// Applying a changeset: validate, check every `before` against the stored rows, write everything in one
// transaction, bump the revision, and hand back the exact inverse (the undo step).
import { Changeset, normalizeAnnotation, normalizeClass, type Annotation, type ChangesetInput, type ImageTag, type LabelClass } from '../../contract/schemas';
import type { Statements } from './db';
import { ChangesetError, ConflictError } from './errors';
import { annotationFromRow, canonical, classAttributesToColumn, classFromRow, flagColumns, geometryToColumn, type AnnotationRow, type ClassRow } from './rows';
import type { ApplyResult } from './types';

export function parseChangeset(input: ChangesetInput): Changeset {
  const r = Changeset.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ChangesetError(`invalid changeset at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return normalizeChangeset(r.data);
}

/** Flags/attributes/class attributes in their one stored form, so `before` compares equal to the stored row. */
function normalizeChangeset(cs: Changeset): Changeset {
  const na = (a: Annotation) => normalizeAnnotation(a);
  const out: Changeset = {
    ...cs,
    created: cs.created.map(na),
    updated: cs.updated.map((u) => ({ before: na(u.before), after: na(u.after) })),
    deleted: cs.deleted.map(na),
  };
  if (cs.classes) {
    out.classes = {
      created: cs.classes.created.map(normalizeClass),
      updated: cs.classes.updated.map((u) => ({ before: normalizeClass(u.before), after: normalizeClass(u.after) })),
      deleted: cs.classes.deleted.map(normalizeClass),
    };
  }
  return out;
}

export function inverseOf(cs: Changeset): Changeset {
  const inv: Changeset = {
    created: cs.deleted,
    updated: cs.updated.map((u) => ({ before: u.after, after: u.before })),
    deleted: cs.created,
  };
  if (cs.classes) {
    inv.classes = {
      created: cs.classes.deleted,
      updated: cs.classes.updated.map((u) => ({ before: u.after, after: u.before })),
      deleted: cs.classes.created,
    };
  }
  if (cs.tags) inv.tags = { added: cs.tags.removed, removed: cs.tags.added };
  if (cs.label !== undefined) inv.label = `undo ${cs.label}`.slice(0, 200);
  return inv;
}

const isEmpty = (cs: Changeset) =>
  !cs.created.length && !cs.updated.length && !cs.deleted.length &&
  !(cs.classes && (cs.classes.created.length || cs.classes.updated.length || cs.classes.deleted.length)) &&
  !(cs.tags && (cs.tags.added.length || cs.tags.removed.length));

function checkUniqueIds(cs: Changeset): void {
  const seen = new Set<string>();
  for (const a of [...cs.created, ...cs.updated.map((u) => u.before), ...cs.deleted]) {
    if (seen.has(a.id)) throw new ChangesetError(`annotation ${a.id} appears more than once in the changeset`);
    seen.add(a.id);
  }
  for (const u of cs.updated) {
    if (u.before.id !== u.after.id) throw new ChangesetError(`an update cannot change annotation id ${u.before.id} to ${u.after.id}`);
  }
  if (cs.tags) {
    const tags = new Set<string>();
    for (const t of [...cs.tags.added, ...cs.tags.removed]) {
      const k = `${t.imageId}\u0000${t.tag}`;
      if (tags.has(k)) throw new ChangesetError(`tag '${t.tag}' of image ${t.imageId} appears more than once in the changeset`);
      tags.add(k);
    }
  }
  if (!cs.classes) return;
  const cls = new Set<number>();
  for (const c of [...cs.classes.created, ...cs.classes.updated.map((u) => u.before), ...cs.classes.deleted]) {
    if (cls.has(c.id)) throw new ChangesetError(`class ${c.id} appears more than once in the changeset`);
    cls.add(c.id);
  }
  for (const u of cs.classes.updated) {
    if (u.before.id !== u.after.id) throw new ChangesetError(`an update cannot change class id ${u.before.id} to ${u.after.id}`);
  }
}

/** Applies an already-parsed changeset; the caller runs this inside a transaction. */
export function applyParsed(st: Statements, cs: Changeset, now = Date.now()): ApplyResult {
  checkUniqueIds(cs);
  const current = Number((st.get<[], { value: string }>(`SELECT value FROM meta WHERE key = 'revision'`).get()!).value);
  if (isEmpty(cs)) return { revision: current, inverse: inverseOf(cs) };

  const getAnn = st.get<[string], AnnotationRow>('SELECT * FROM annotations WHERE id = ?');
  const getCls = st.get<[number], ClassRow>('SELECT * FROM classes WHERE id = ?');
  const clsByName = st.get<[string], { id: number }>('SELECT id FROM classes WHERE name = ?');
  const imageExists = st.get<[number], { id: number }>('SELECT id FROM images WHERE id = ?');
  const touched = new Set<number>();

  const sameClass = (stored: ClassRow | undefined, c: LabelClass, what: string) => {
    if (!stored) throw new ConflictError(`class ${c.id} ('${c.name}') to be ${what} does not exist (it was changed elsewhere); reload and retry`);
    if (canonical(classFromRow(stored)) !== canonical(normalizeClass(c))) {
      throw new ConflictError(`class ${c.id} ('${stored.name}') has changed since this edit was made; reload and retry`);
    }
  };
  const sameAnn = (a: Annotation, what: string) => {
    const stored = getAnn.get(a.id);
    if (!stored) throw new ConflictError(`annotation ${a.id} to be ${what} does not exist (it was changed elsewhere); reload and retry`);
    if (canonical(annotationFromRow(stored)) !== canonical(normalizeAnnotation(a))) {
      throw new ConflictError(`annotation ${a.id} on image ${stored.image_id} has changed since this edit was made; reload and retry`);
    }
  };
  const checkRefs = (a: Annotation) => {
    if (!imageExists.get(a.imageId)) throw new ChangesetError(`annotation ${a.id} refers to image ${a.imageId}, which is not in the project`);
    if (!getCls.get(a.classId)) throw new ChangesetError(`annotation ${a.id} refers to class ${a.classId}, which does not exist`);
  };
  const nameFree = (c: LabelClass) => {
    const other = clsByName.get(c.name);
    if (other && other.id !== c.id) throw new ChangesetError(`a class named '${c.name}' already exists`);
  };

  const cc = cs.classes;
  if (cc) {
    const ins = st.get('INSERT INTO classes (id, name, color, hotkey, ord, attributes) VALUES (?, ?, ?, ?, ?, ?)');
    for (const c of cc.created) {
      if (getCls.get(c.id)) throw new ConflictError(`class id ${c.id} ('${c.name}') already exists; reload and retry`);
      nameFree(c);
      ins.run(c.id, c.name, c.color, c.hotkey, c.order, classAttributesToColumn(c));
    }
    const upd = st.get('UPDATE classes SET name = ?, color = ?, hotkey = ?, ord = ?, attributes = ? WHERE id = ?');
    for (const { before, after } of cc.updated) {
      sameClass(getCls.get(before.id), before, 'updated');
      nameFree(after);
      upd.run(after.name, after.color, after.hotkey, after.order, classAttributesToColumn(after), after.id);
    }
  }

  const del = st.get('DELETE FROM annotations WHERE id = ?');
  for (const a of cs.deleted) {
    sameAnn(a, 'deleted');
    del.run(a.id);
    touched.add(a.imageId);
  }
  const upd = st.get(
    `UPDATE annotations SET image_id = ?, class_id = ?, kind = ?, geometry = ?, source = ?, score = ?, model_version = ?,
     created_at = ?, updated_at = ?, occluded = ?, truncated = ?, difficult = ?, iscrowd = ?, attributes = ? WHERE id = ?`,
  );
  for (const { before, after } of cs.updated) {
    sameAnn(before, 'updated');
    checkRefs(after);
    upd.run(after.imageId, after.classId, after.geometry.kind, geometryToColumn(after.geometry), after.source, after.score,
      after.modelVersion, after.createdAt, after.updatedAt, ...flagColumns(after), after.id);
    touched.add(before.imageId).add(after.imageId);
  }
  const ins = st.get(
    `INSERT INTO annotations (id, image_id, class_id, kind, geometry, source, score, model_version, created_at, updated_at,
       occluded, truncated, difficult, iscrowd, attributes)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const a of cs.created) {
    if (getAnn.get(a.id)) throw new ConflictError(`annotation ${a.id} already exists (was this edit applied twice?)`);
    checkRefs(a);
    ins.run(a.id, a.imageId, a.classId, a.geometry.kind, geometryToColumn(a.geometry), a.source, a.score, a.modelVersion, a.createdAt, a.updatedAt,
      ...flagColumns(a));
    touched.add(a.imageId);
  }
  if (cs.tags) applyTags(st, cs.tags.added, cs.tags.removed, (id) => !!imageExists.get(id));

  if (cc) {
    const left = st.get<[number], { n: number }>('SELECT COUNT(*) AS n FROM annotations WHERE class_id = ?');
    const delCls = st.get('DELETE FROM classes WHERE id = ?');
    for (const c of cc.deleted) {
      sameClass(getCls.get(c.id), c, 'deleted');
      const n = left.get(c.id)!.n;
      if (n > 0) {
        throw new ChangesetError(
          `class '${c.name}' cannot be deleted: ${n} annotation${n === 1 ? '' : 's'} still use${n === 1 ? 's' : ''} it and ${n === 1 ? 'is' : 'are'} not deleted in the same changeset`,
        );
      }
      delCls.run(c.id);
    }
  }

  refreshStatus(st, touched);
  const revision = bumpRevision(st, cs.label ?? null, [cs.created.length, cs.updated.length, cs.deleted.length], now);
  return { revision, inverse: inverseOf(cs) };
}

function applyTags(st: Statements, added: ImageTag[], removed: ImageTag[], imageExists: (id: number) => boolean): void {
  const has = st.get<[number, string], { tag: string }>('SELECT tag FROM image_tags WHERE image_id = ? AND tag = ?');
  const del = st.get('DELETE FROM image_tags WHERE image_id = ? AND tag = ?');
  const ins = st.get('INSERT INTO image_tags (image_id, tag) VALUES (?, ?)');
  // Exact add/remove (no silent no-ops): otherwise the inverse of "add a tag it already had" would remove it.
  for (const t of removed) {
    if (!has.get(t.imageId, t.tag)) throw new ConflictError(`image ${t.imageId} has no tag '${t.tag}' to remove (it was changed elsewhere); reload and retry`);
    del.run(t.imageId, t.tag);
  }
  for (const t of added) {
    if (!imageExists(t.imageId)) throw new ChangesetError(`tag '${t.tag}' refers to image ${t.imageId}, which is not in the project`);
    if (has.get(t.imageId, t.tag)) throw new ConflictError(`image ${t.imageId} already has the tag '${t.tag}'; reload and retry`);
    ins.run(t.imageId, t.tag);
  }
}

/** Advances the dataset revision and logs what it was; the caller is inside the write transaction. */
export function bumpRevision(st: Statements, label: string | null, counts: [number, number, number] = [0, 0, 0], now = Date.now()): number {
  const revision = Number(st.get<[], { value: string }>(`SELECT value FROM meta WHERE key = 'revision'`).get()!.value) + 1;
  st.get(`UPDATE meta SET value = ? WHERE key = 'revision'`).run(String(revision));
  st.get('INSERT INTO revisions (revision, label, applied_at, created, updated, deleted) VALUES (?, ?, ?, ?, ?, ?)')
    .run(revision, label, now, ...counts);
  return revision;
}

/** unlabeled ↔ labeled follows whether the image has a human annotation; 'reviewed' is the user's call and stays. */
export function refreshStatus(st: Statements, imageIds: Iterable<number>): void {
  const s = st.get(
    `UPDATE images SET status = CASE WHEN EXISTS (SELECT 1 FROM annotations WHERE image_id = @id AND source = 'human')
       THEN 'labeled' ELSE 'unlabeled' END
     WHERE id = @id AND status != 'reviewed'`,
  );
  for (const id of imageIds) s.run({ id });
}

export function applyChangeset(st: Statements, input: ChangesetInput): ApplyResult {
  const cs = parseChangeset(input);
  return st.db.transaction(() => applyParsed(st, cs)).immediate();
}
