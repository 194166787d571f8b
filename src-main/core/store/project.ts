// The project store: one folder, one SQLite file (see db.ts for the durability settings), media and caches.
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { Database as Db } from 'better-sqlite3';
import { ImageStatus, Split, type Annotation, type Changeset, type ChangesetInput, type ImageRecord, type LabelClass } from '../../contract/schemas';
import type { Dataset } from '../datasets/types';
import { ingestFiles, type NewImage } from '../ingest/ingest';
import { makeThumbnail, THUMB_SIZE } from '../ingest/probe';
import { writeThumb } from '../ingest/media';
import { projectPaths, PROJECT_DB, thumbRelPath } from '../paths';
import { applyChangeset, bumpRevision } from './changeset';
import { insertVerified, removeCreated, verifyDataset, type DatasetImportOptions, type ImportResult } from './dataset-import';
import { exportDataset } from './dataset-export';
import { checkSource, ensureDir } from '../io/safe-mkdir';
import { IDLE_CHECKPOINT_MS, openDb, Statements, type Synchronous } from './db';
import { FeatureCacheIndex } from './feature-cache';
import { ChangesetError, ExistsError, NotFoundError } from './errors';
import { migrate, schemaVersion } from './migrate';
import { GEOMETRY_CHECK_KEY, m004, type GeometryCheckReport } from './migrations/004-geometry-check';
import { ModelRegistry, type NewModelVersion, type RunStatus } from './models';
import { PredictionStore, type NewPrediction } from './predictions';
import { annotationFromRow, classFromRow, IMAGE_COLUMNS_WITH_TAGS, imageWithTags, type AnnotationRow, type ClassRow, type ImageRow } from './rows';
import type { ApplyResult, ClassEditResult, FullProjectStore, ImageCounts, ImageQuery, IngestOptions, IngestReport } from './types';

export interface OpenOptions {
  synchronous?: Synchronous;
}

function ensureLayout(dir: string): void {
  const p = projectPaths(dir);
  // the project folder itself was checked by ensureDir/checkSource: its sub-folders cannot hit mkdir's loop
  for (const d of [p.media, p.models, p.thumbs, p.features]) ensureDir(d, { what: 'project folder' });
}

/** Creates a new project folder (or uses an existing folder that holds no project yet). */
export function createProject(dir: string, opts: { name?: string } & OpenOptions = {}): SqliteProjectStore {
  // fails fast with a clear sentence on /proc, /sys, a file, a symlink loop or a read-only parent
  dir = ensureDir(dir, { what: 'project folder', field: 'dir' });
  if (existsSync(join(dir, PROJECT_DB))) throw new ExistsError(`${dir} already holds a project; open it instead`, 'dir');
  if (readdirSync(dir).some((f) => f.startsWith(`${PROJECT_DB}-`))) {
    throw new ExistsError(`${dir} holds leftover ${PROJECT_DB}-wal/-shm files without a database; remove them first`, 'dir');
  }
  ensureLayout(dir);
  const db = openDb(join(dir, PROJECT_DB), opts);
  try {
    migrate(db);
    const name = (opts.name ?? basename(dir)).slice(0, 200) || 'project';
    db.prepare(`INSERT INTO meta (key, value) VALUES ('name', ?), ('created_at', ?)`).run(name, String(Date.now()));
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteProjectStore(dir, db);
}

/** Opens a project, upgrading an older schema in one transaction; refuses one written by a newer app. */
export function openProject(dir: string, opts: OpenOptions = {}): SqliteProjectStore {
  dir = checkSource(dir, { what: 'project folder', field: 'dir', kind: 'folder' });
  const file = join(dir, PROJECT_DB);
  if (!existsSync(file)) throw new NotFoundError(`${dir} is not an HST Studio project (no ${PROJECT_DB} in it)`, 'dir');
  let db: Db;
  let from = 0;
  try {
    db = openDb(file, opts);
  } catch (err) {
    throw new NotFoundError(`${file} cannot be opened as a project database: ${(err as Error).message}`, 'dir');
  }
  try {
    if (schemaVersion(db) === 0) throw new NotFoundError(`${file} is not an HST Studio project database`, 'dir');
    from = migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  ensureLayout(dir);
  const store = new SqliteProjectStore(dir, db);
  if (from < m004.version) store.notice = geometryCheckNotice(store.geometryCheck());
  return store;
}

const SORT: Record<NonNullable<ImageQuery['sort']>, string> = { id: 'id', fileName: 'file_name COLLATE NOCASE, id', addedAt: 'added_at, id' };

/** One sentence about what the schema-4 geometry check changed, or undefined when it changed nothing. */
export function geometryCheckNotice(r: GeometryCheckReport | null): string | undefined {
  if (!r || (!r.clipped && !r.quarantined)) return undefined;
  return `checked the geometry of ${r.checked} stored annotation(s): ${r.clipped} clipped to their image, ${r.quarantined} unreadable one(s) moved to the quarantine table`;
}

export class SqliteProjectStore implements FullProjectStore {
  readonly st: Statements;
  /** said once when the project is opened (what an upgrade changed), e.g. by project.open */
  notice?: string;
  readonly featureCache: FeatureCacheIndex;
  private readonly models: ModelRegistry;
  private readonly preds: PredictionStore;
  private closed = false;
  private checkpointTimer: NodeJS.Timeout | null = null;

  constructor(readonly dir: string, readonly db: Db) {
    this.st = new Statements(db);
    this.featureCache = new FeatureCacheIndex(this.st, dir);
    this.models = new ModelRegistry(this.st);
    this.preds = new PredictionStore(this.st);
  }

  get name(): string {
    return this.meta('name') ?? basename(this.dir);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    try {
      this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }

  /** Moves the WAL into the database file; called when writes pause (see db.ts for why not per commit). */
  checkpoint(): void {
    if (!this.closed) this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** Debounced: every write pushes the idle checkpoint back. The timer never keeps the process alive. */
  private wrote(): void {
    if (this.checkpointTimer) this.checkpointTimer.refresh();
    else {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = null;
        try {
          this.checkpoint();
        } catch {
          // busy (another connection is writing): the next pause or the backstop will do it
        }
      }, IDLE_CHECKPOINT_MS);
      this.checkpointTimer.unref();
    }
  }

  private meta(key: string): string | undefined {
    return this.st.get<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;
  }

  /** What the schema-4 geometry check found (null in projects created before it ran, which cannot happen once open). */
  geometryCheck(): GeometryCheckReport | null {
    const v = this.meta(GEOMETRY_CHECK_KEY);
    return v ? (JSON.parse(v) as GeometryCheckReport) : null;
  }

  /** Annotations the geometry check could not repair (kept whole, with the reason). */
  quarantined(): { id: string; imageId: number | null; reason: string }[] {
    return this.st
      .get<[], { id: string; image_id: number | null; reason: string }>('SELECT id, image_id, reason FROM quarantine ORDER BY rowid')
      .all()
      .map((r) => ({ id: r.id, imageId: r.image_id, reason: r.reason }));
  }

  revision(): number {
    return Number(this.meta('revision') ?? 0);
  }

  listClasses(): LabelClass[] {
    return this.st.get<[], ClassRow>('SELECT * FROM classes ORDER BY ord, id').all().map(classFromRow);
  }

  private where(q: ImageQuery): { sql: string; args: unknown[] } {
    const parts: string[] = [];
    const args: unknown[] = [];
    // 'predicted' = suggestions waiting for review: images not labelled yet that a model predicted on. Labelled
    // images carry predictions too (the val evaluation after a fine-tune stores them), which are no work to do.
    if (q.status === 'predicted') parts.push("status = 'unlabeled' AND EXISTS (SELECT 1 FROM predictions p WHERE p.image_id = images.id)");
    else if (q.status) {
      parts.push('status = ?');
      args.push(ImageStatus.parse(q.status));
    }
    if (q.split) {
      parts.push('split = ?');
      args.push(Split.parse(q.split));
    }
    if (q.classId !== undefined) {
      parts.push('EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = images.id AND a.class_id = ?)');
      args.push(q.classId);
    }
    if (q.tag !== undefined) {
      parts.push('EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = images.id AND t.tag = ?)');
      args.push(q.tag);
    }
    return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
  }

  listImages(q: ImageQuery = {}): { total: number; items: ImageRecord[] } {
    const w = this.where(q);
    const total = this.st.get<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM images ${w.sql}`).get(...w.args)!.n;
    const order = SORT[q.sort ?? 'id'] ?? 'id';
    const items = this.st
      .get<unknown[], ImageRow>(`SELECT ${IMAGE_COLUMNS_WITH_TAGS} FROM images ${w.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...w.args, q.limit ?? -1, q.offset ?? 0)
      .map(imageWithTags);
    return { total, items };
  }

  imageIds(q: ImageQuery = {}): number[] {
    const w = this.where(q);
    return this.st
      .get<unknown[], { id: number }>(`SELECT id FROM images ${w.sql} ORDER BY ${SORT[q.sort ?? 'id'] ?? 'id'}`)
      .all(...w.args)
      .map((r) => r.id);
  }

  imageCounts(): ImageCounts {
    const rows = this.st.get<[], { status: string; n: number }>('SELECT status, COUNT(*) AS n FROM images GROUP BY status').all();
    const c: ImageCounts = { all: 0, unlabeled: 0, labeled: 0, reviewed: 0, predicted: 0 };
    for (const r of rows) {
      c[r.status as 'unlabeled' | 'labeled' | 'reviewed'] = r.n;
      c.all += r.n;
    }
    c.predicted = this.st
      .get<[], { n: number }>("SELECT COUNT(*) AS n FROM images WHERE status = 'unlabeled' AND EXISTS (SELECT 1 FROM predictions p WHERE p.image_id = images.id)")
      .get()!.n;
    return c;
  }

  getImage(id: number): ImageRecord | null {
    const r = this.st.get<[number], ImageRow>(`SELECT ${IMAGE_COLUMNS_WITH_TAGS} FROM images WHERE id = ?`).get(id);
    return r ? imageWithTags(r) : null;
  }

  tagCounts(): { tag: string; count: number }[] {
    return this.st.get<[], { tag: string; count: number }>('SELECT tag, COUNT(*) AS count FROM image_tags GROUP BY tag ORDER BY count DESC, tag').all();
  }

  private imageRow(id: number): ImageRow | undefined {
    return this.st.get<[number], ImageRow>('SELECT * FROM images WHERE id = ?').get(id);
  }

  private absPath = (r: ImageRow): string => {
    if (r.linked) return r.path;
    const abs = resolve(this.dir, r.path);
    const rel = relative(this.dir, abs);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`image ${r.id} has a media path outside the project (${r.path})`);
    return abs;
  };

  imagePath(id: number): string {
    const r = this.imageRow(id);
    if (!r) throw new NotFoundError(`image ${id} is not in the project`);
    return this.absPath(r);
  }

  annotationsOf(imageId: number): Annotation[] {
    return this.st
      .get<[number], AnnotationRow>('SELECT * FROM annotations WHERE image_id = ? ORDER BY created_at, rowid')
      .all(imageId)
      .map(annotationFromRow);
  }

  classCounts(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const r of this.st.get<[], { class_id: number; n: number }>('SELECT class_id, COUNT(*) AS n FROM annotations GROUP BY class_id').all()) {
      out[r.class_id] = r.n;
    }
    return out;
  }

  apply(cs: ChangesetInput): ApplyResult {
    const r = applyChangeset(this.st, cs);
    this.wrote();
    return r;
  }

  private classRow(id: number): LabelClass {
    const r = this.st.get<[number], ClassRow>('SELECT * FROM classes WHERE id = ?').get(id);
    if (!r) throw new NotFoundError(`class ${id} does not exist`, 'classId');
    return classFromRow(r);
  }

  private annotationsOfClass(classId: number): Annotation[] {
    return this.st.get<[number], AnnotationRow>('SELECT * FROM annotations WHERE class_id = ? ORDER BY rowid').all(classId).map(annotationFromRow);
  }

  deleteClassChangeset(classId: number): Changeset {
    const c = this.classRow(classId);
    return {
      created: [],
      updated: [],
      deleted: this.annotationsOfClass(classId),
      classes: { created: [], updated: [], deleted: [c] },
      label: `delete class ${c.name}`.slice(0, 200),
    };
  }

  deleteClass(classId: number): ClassEditResult {
    // Built and applied in one write transaction so no annotation can slip in between.
    return this.db.transaction(() => {
      const cs = this.deleteClassChangeset(classId);
      return { ...this.apply(cs), affected: cs.deleted.length };
    }).immediate();
  }

  mergeClasses(fromId: number, intoId: number): ClassEditResult {
    if (fromId === intoId) throw new ChangesetError('a class cannot be merged into itself', 'intoId');
    return this.db.transaction(() => {
      const from = this.classRow(fromId);
      const into = this.classRow(intoId);
      const now = Date.now();
      const anns = this.annotationsOfClass(fromId);
      const cs: Changeset = {
        created: [],
        updated: anns.map((a) => ({ before: a, after: { ...a, classId: intoId, updatedAt: now } })),
        deleted: [],
        classes: { created: [], updated: [], deleted: [from] },
        label: `merge class ${from.name} into ${into.name}`.slice(0, 200),
      };
      return { ...this.apply(cs), affected: anns.length };
    }).immediate();
  }

  /** Bumps the revision when any split changes: which images train and which validate is part of the dataset. */
  setSplit(imageIds: number[], split: Split): void {
    const s = Split.parse(split);
    const get = this.st.get<[number], { split: string }>('SELECT split FROM images WHERE id = ?');
    const u = this.st.get('UPDATE images SET split = ? WHERE id = ?');
    this.db.transaction(() => {
      let changed = 0;
      for (const id of imageIds) {
        const row = get.get(id);
        if (!row) throw new NotFoundError(`image ${id} is not in the project (ids[${imageIds.indexOf(id)}])`, 'ids');
        if (row.split !== s) changed += u.run(s, id).changes;
      }
      if (changed) bumpRevision(this.st, `set split of ${changed} image${changed === 1 ? '' : 's'} to ${s}`);
    }).immediate();
    this.wrote();
  }

  setStatus(imageIds: number[], status: ImageStatus): void {
    const s = ImageStatus.parse(status);
    const u = this.st.get('UPDATE images SET status = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const id of imageIds) if (u.run(s, id).changes === 0) throw new NotFoundError(`image ${id} is not in the project (ids[${imageIds.indexOf(id)}])`, 'ids');
    }).immediate();
    this.wrote();
  }

  private findByHash = (hash: string) => {
    const r = this.st.get<[string], { id: number; file_name: string }>('SELECT id, file_name FROM images WHERE hash = ?').get(hash);
    return r ? { id: r.id, fileName: r.file_name } : undefined;
  };

  insertImage(im: NewImage): ImageRecord {
    const r = this.st
      .get(`INSERT INTO images (hash, path, linked, file_name, format, bytes, width, height, orientation, split, added_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(im.hash, im.path, im.linked ? 1 : 0, im.fileName, im.format, im.bytes, im.width, im.height, im.orientation, im.split ?? 'train', Date.now());
    this.wrote();
    return this.getImage(Number(r.lastInsertRowid))!;
  }

  ingest(paths: string[], opts: IngestOptions = {}): Promise<IngestReport> {
    return ingestFiles({ dir: this.dir, findByHash: this.findByHash, insertImage: (im) => this.insertImage(im) }, paths, opts);
  }

  async importDataset(ds: Dataset, opts: DatasetImportOptions = {}): Promise<ImportResult> {
    const created: string[] = [];
    try {
      const v = await verifyDataset({ dir: this.dir, st: this.st, findByHash: this.findByHash }, ds, opts, created);
      const r = insertVerified(this.st, v);
      this.wrote();
      return r;
    } catch (err) {
      removeCreated(created);
      throw err;
    }
  }

  toDataset(opts: { splits?: Split[] } = {}): Dataset {
    return exportDataset(this.st, this.absPath, opts);
  }

  async thumbnail(imageId: number, size = THUMB_SIZE): Promise<Buffer> {
    const r = this.imageRow(imageId);
    if (!r) throw new NotFoundError(`image ${imageId} is not in the project`);
    if (!Number.isInteger(size) || size < 16 || size > 2048) throw new ChangesetError(`thumbnail size ${size} must be an integer from 16 to 2048`);
    const cached = join(this.dir, thumbRelPath(r.hash, size));
    try {
      return await readFile(cached);
    } catch {
      const src = this.absPath(r);
      if (!existsSync(src)) throw new NotFoundError(`the file of image ${imageId} (${r.file_name}) is missing: ${src}`);
      const data = await makeThumbnail(src, size);
      await writeThumb(this.dir, r.hash, size, data);
      return data;
    }
  }

  settings(): Record<string, unknown> {
    return JSON.parse(this.meta('settings') ?? '{}');
  }

  setSettings(patch: Record<string, unknown>): Record<string, unknown> {
    return this.db.transaction(() => {
      const s = this.settings();
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete s[k];
        else s[k] = v;
      }
      this.st.get(`INSERT INTO meta (key, value) VALUES ('settings', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(JSON.stringify(s));
      return s;
    }).immediate();
  }

  addModelVersion = (m: NewModelVersion) => this.models.add(m);
  getModelVersion = (id: number) => this.models.get(id);
  listModelVersions = (task?: string) => this.models.list(task);
  activeModel = (task: string) => this.models.active(task);
  setActiveModel = (id: number) => this.models.setActive(id);
  deleteModelVersion = (id: number) => {
    const m = this.models.delete(id);
    this.wrote();
    return m;
  };
  updateModelVersion = (id: number, patch: { metrics?: Record<string, unknown>; files?: string[]; name?: string }) => this.models.update(id, patch);
  addTrainingRun = (r: { config: unknown; modelVersion?: number | null }) => this.models.addRun(r);
  finishTrainingRun = (id: number, end: { status: Exclude<RunStatus, 'running'>; error?: string; modelVersion?: number | null }) =>
    this.models.finishRun(id, end);
  listTrainingRuns = () => this.models.listRuns();
  appendRunEvent = (runId: number, kind: string, data: unknown) => {
    const id = this.models.appendEvent(runId, kind, data);
    this.wrote();
    return id;
  };
  runEvents = (runId: number, afterId?: number) => this.models.events(runId, afterId);
  putPredictions = (imageId: number, modelVersion: number, preds: NewPrediction[]) => {
    this.preds.put(imageId, modelVersion, preds);
    this.wrote();
  };
  listPredictions = (imageId: number, modelVersion?: number) => this.preds.list(imageId, modelVersion);
  clearPredictions = (modelVersion?: number) => this.preds.clear(modelVersion);
  deletePredictions = (ids: readonly number[]) => {
    const n = this.preds.delete(ids);
    this.wrote();
    return n;
  };
}
