// The studio's API implemented over the core, independent of transport: the HTTP server and the Electron
// IPC layer both call `service.handlers` through `dispatch` (which validates every payload both ways).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BackboneInfo, DoctorReport, ProjectInfo } from '../../contract/api';
import type { Annotation, Changeset } from '../../contract/schemas';
import type { ProjectStore, ProjectStoreExtras } from '../store/types';
import { generateDemo } from '../demo';
import { dispatch, type Handlers } from './dispatch';
import { ApiError, badRequest, conflict, notFound } from './errors';
import { ExportDownloads } from './export-downloads';
import { FIRST_LEVEL, ImagePyramid, type MediaBytes } from './image-pyramid';
import { JobRunner, type Emit } from './jobs';
import { BackboneService } from './backbone-service';
import { LoopService } from './loop-service';
import { RecentList } from './recent';
import { checkSource, ensureDir } from '../io/safe-mkdir';
import { cleanStaleStaging, UploadStaging } from './upload-staging';

export interface StoreFactory {
  create(dir: string, name?: string): ProjectStore | Promise<ProjectStore>;
  open(dir: string): ProjectStore | Promise<ProjectStore>;
}

export interface StudioServiceOptions {
  stores: StoreFactory;
  mode: 'server' | 'electron';
  version?: string;
  doctor: () => Promise<DoctorReport>;
  emit?: Emit;
  recent?: RecentList;
  /** where upload staging folders go (default: the OS temp folder) */
  uploadBase?: string;
  /** upload caps (default UPLOAD_LIMITS) */
  uploadLimits?: UploadStaging['limits'];
}

export class StudioService {
  readonly jobs: JobRunner = new JobRunner((e, p) => this.emit(e, p));
  /** fine-tune, predictions, suggestions, label-next, export, incremental updates */
  readonly loop: LoopService = new LoopService({ need: () => this.need(), emit: (e, p) => this.emit(e, p), jobs: this.jobs, apply: (cs) => this.applyAndAnnounce(this.need(), cs) });
  /** backbones live in the user's data folder: they need no project */
  readonly backbones: BackboneService = new BackboneService((e, p) => this.emit(e, p));
  /** dataset and model exports zipped for download (GET download/<id>) */
  readonly downloads: ExportDownloads = new ExportDownloads(this.jobs, () => this.need());
  private store: ProjectStore | null = null;
  private pyramid = new ImagePyramid();
  private recent: RecentList;
  private listeners = new Set<Emit>();
  private uploads: UploadStaging;

  constructor(private opts: StudioServiceOptions) {
    this.recent = opts.recent ?? new RecentList();
    if (opts.emit) this.listeners.add(opts.emit);
    this.uploads = new UploadStaging(opts.uploadBase, opts.uploadLimits);
    // uploads staged by a server that crashed or was killed would otherwise stay in the temp folder for good
    if (opts.mode === 'server') {
      try {
        cleanStaleStaging(opts.uploadBase);
      } catch {
        // an unreadable temp folder only means the leftovers stay
      }
    }
  }

  /** Subscribe to events (the WebSocket hub / webContents bridge); returns the unsubscribe function. */
  subscribe(fn: Emit): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit: Emit = (event, payload) => {
    for (const l of this.listeners) l(event, payload);
  };

  /** Validated call by method name: what transports use. */
  call(name: string, input: unknown): Promise<unknown> {
    return dispatch(this.handlers, name, input);
  }

  get project(): ProjectStore | null {
    return this.store;
  }

  private need(): ProjectStore {
    if (!this.store) throw conflict('no project is open: create or open a project first');
    return this.store;
  }

  private info(s: ProjectStore): ProjectInfo {
    return { dir: s.dir, name: s.name, revision: s.revision(), imageCount: s.listImages({ limit: 1 }).total };
  }

  private adopt(s: ProjectStore): ProjectInfo {
    this.closeProject();
    this.store = s;
    this.recent.touch(s.dir, s.name);
    const notice = (s as { notice?: unknown }).notice;
    return typeof notice === 'string' ? { ...this.info(s), notice } : this.info(s);
  }

  private closeProject(): void {
    this.jobs.cancelAll();
    this.loop.close();
    this.pyramid.clear();
    this.store?.close();
    this.store = null;
  }

  /** Opens a project at start (the --project flag). */
  async openAtStart(dir: string): Promise<ProjectInfo> {
    return this.adopt(await this.opts.stores.open(resolve(dir)));
  }

  close(): void {
    this.closeProject();
    this.uploads.close();
    this.downloads.close();
  }

  private classAnnotations(s: ProjectStore, classId: number): Annotation[] {
    const out: Annotation[] = [];
    const { items } = s.listImages({ classId, limit: Number.MAX_SAFE_INTEGER });
    for (const img of items) for (const a of s.annotationsOf(img.id)) if (a.classId === classId) out.push(a);
    return out;
  }

  private applyAndAnnounce(s: ProjectStore, cs: Changeset) {
    const res = s.apply(cs);
    this.emit('project.changed', { revision: res.revision });
    this.loop.afterApply(cs);
    return res;
  }

  readonly handlers: Handlers = {
    'app.doctor': () => this.opts.doctor(),
    'app.info': () => ({
      version: this.opts.version ?? '0.0.0',
      mode: this.opts.mode,
      project: this.store ? this.info(this.store) : null,
      recent: this.recent.list(),
    }),

    'project.create': async ({ dir, name, demo }) => {
      // before the store factory: a bad folder is a clear 400 within milliseconds whatever store is plugged in
      const s = await this.opts.stores.create(ensureDir(dir, { what: 'project folder', field: 'dir' }), name);
      const info = this.adopt(s);
      if (!demo) return info;
      // The embedded default: the labelled synthetic shapes dataset (boxes + instance masks), so a new user can
      // press Fine-tune at once. Same data as `hst-studio project create --demo`.
      const tmp = mkdtempSync(join(tmpdir(), 'hst-demo-'));
      try {
        await s.importDataset(await generateDemo(tmp), { mode: 'copy' });
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      return this.info(s);
    },
    'project.open': async ({ dir }) => this.adopt(await this.opts.stores.open(checkSource(dir, { what: 'project folder', field: 'dir', kind: 'folder' }))),
    'project.close': () => {
      this.closeProject();
      return { ok: true as const };
    },
    'project.info': () => this.info(this.need()),

    'images.list': (q) => this.need().listImages(q),
    'images.ids': (q) => {
      const s = this.need();
      const x = extras(s);
      return { ids: x ? x.imageIds(q) : s.listImages({ ...q, limit: Number.MAX_SAFE_INTEGER }).items.map((i) => i.id) };
    },
    'images.get': ({ id }) => {
      const img = this.need().getImage(id);
      if (!img) throw notFound(`image ${id} does not exist in this project`);
      return img;
    },
    'images.counts': () => {
      const s = this.need();
      const x = extras(s);
      if (x) return x.imageCounts();
      const n = (status?: 'unlabeled' | 'labeled' | 'reviewed' | 'predicted') => s.listImages({ status, limit: 1 }).total;
      return { all: n(), unlabeled: n('unlabeled'), labeled: n('labeled'), reviewed: n('reviewed'), predicted: n('predicted') };
    },
    'images.setSplit': ({ ids, split }) => {
      this.need().setSplit(ids, split);
      return { ok: true as const };
    },
    'images.setStatus': ({ ids, status }) => {
      this.need().setStatus(ids, status);
      return { ok: true as const };
    },
    'images.import': ({ paths, mode }) => ({
      jobId: this.startImport(paths.map((p, i) => checkSource(p, { what: 'import path', field: `paths[${i}]`, allowMissing: paths.length > 1 })), mode ?? 'copy'),
    }),

    'datasets.import': ({ path, format }) => ({ jobId: this.startDatasetImport(checkSource(path, { what: 'dataset path', field: 'path' }), format) }),

    'tags.list': () => {
      const s = this.need();
      const x = s as Partial<ProjectStoreExtras>;
      if (typeof x.tagCounts === 'function') return { tags: x.tagCounts() };
      const counts = new Map<string, number>();
      for (const im of s.listImages({ limit: Number.MAX_SAFE_INTEGER }).items) for (const t of im.tags ?? []) counts.set(t, (counts.get(t) ?? 0) + 1);
      return { tags: [...counts].map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || (a.tag < b.tag ? -1 : 1)) };
    },

    'annotations.list': ({ imageId }) => ({ items: this.need().annotationsOf(imageId) }),
    'annotations.apply': ({ changeset }) => this.applyAndAnnounce(this.need(), changeset),

    'classes.list': () => {
      const s = this.need();
      const counts: Record<string, number> = {};
      for (const [k, v] of Object.entries(s.classCounts())) counts[k] = v;
      return { classes: s.listClasses(), counts };
    },
    'classes.delete': ({ classId }) => {
      const s = this.need();
      const cls = s.listClasses().find((c) => c.id === classId);
      if (!cls) throw notFound(`class ${classId} does not exist`);
      const x = extras(s);
      if (x) {
        const res = x.deleteClass(classId);
        this.emit('project.changed', { revision: res.revision });
        return res;
      }
      const anns = this.classAnnotations(s, classId);
      const res = this.applyAndAnnounce(s, {
        created: [],
        updated: [],
        deleted: anns,
        classes: { created: [], updated: [], deleted: [cls] },
        label: `delete class ${cls.name}`,
      });
      return { ...res, affected: anns.length };
    },
    'classes.merge': ({ fromId, intoId }) => {
      const s = this.need();
      if (fromId === intoId) throw badRequest('cannot merge a class into itself', 'intoId');
      const classes = s.listClasses();
      const from = classes.find((c) => c.id === fromId);
      const into = classes.find((c) => c.id === intoId);
      if (!from) throw notFound(`class ${fromId} does not exist`);
      if (!into) throw notFound(`class ${intoId} does not exist`);
      const x = extras(s);
      if (x) {
        const res = x.mergeClasses(fromId, intoId);
        this.emit('project.changed', { revision: res.revision });
        return res;
      }
      const now = Date.now();
      const anns = this.classAnnotations(s, fromId);
      const res = this.applyAndAnnounce(s, {
        created: [],
        deleted: [],
        updated: anns.map((a) => ({ before: a, after: { ...a, classId: intoId, updatedAt: now } })),
        classes: { created: [], updated: [], deleted: [from] },
        label: `merge ${from.name} into ${into.name}`,
      });
      return { ...res, affected: anns.length };
    },

    ...this.loop.handlers,
    ...this.downloads.handlers,

    ...this.backbones.handlers,
    'jobs.cancel': ({ jobId }) => {
      if (!this.jobs.cancel(jobId) && !this.backbones.jobs.cancel(jobId) && !this.jobs.isFinished(jobId) && !this.backbones.jobs.isFinished(jobId)) throw notFound(`job ${jobId} is not running`);
      return { ok: true as const };
    },
    'jobs.get': ({ jobId }) => {
      const j = this.jobs.get(jobId) ?? this.backbones.jobs.get(jobId);
      if (!j) throw notFound(`job ${jobId} is unknown (finished long ago, or from before a restart)`);
      return j.state === 'running' ? { state: 'running' as const, kind: j.kind } : { state: 'done' as const, kind: j.done.kind, done: j.done };
    },
  };

  private startImport(paths: string[], mode: 'copy' | 'link', cleanup?: () => void): string {
    const s = this.need();
    return this.jobs.start('import', async ({ signal, progress }) => {
      try {
        const report = await s.ingest(paths, {
          mode,
          signal,
          onProgress: (p) => progress(p.total ? p.done / p.total : 0, p.current ? basename(p.current) : undefined),
        });
        progress(1);
        this.emit('project.changed', { revision: s.revision() });
        void this.warmFirstLevels(s, report.added.slice(0, 200).map((i) => i.id));
        return { added: report.added.length, skipped: report.skipped, ...(report.cancelled ? { status: 'cancelled' as const } : {}) };
      } finally {
        cleanup?.();
      }
    });
  }

  private startDatasetImport(path: string, format?: 'coco' | 'yolo' | 'voc' | 'labelme'): string {
    const s = this.need();
    return this.jobs.start('dataset-import', async ({ signal, progress }) => {
      const { detectFormat } = await import('../datasets/detect-format');
      const { readDataset } = await import('../datasets/read-dataset');
      const fmt = format ?? (await detectFormat(path));
      progress(0.05, `reading ${fmt}`);
      const { summarizeIssues } = await import('../datasets/issue-summary');
      const ds = await readDataset(fmt, path);
      const errors = ds.issues.filter((i) => i.level === 'error');
      if (errors.length) {
        throw new Error(`${errors.length} problem${errors.length === 1 ? '' : 's'} in the ${fmt} dataset, nothing imported:\n${summarizeIssues(errors, { maxGroups: 5 }).join('\n')}`);
      }
      const { DatasetImportError } = await import('../store/dataset-import');
      const r = await s.importDataset(ds, { signal, onProgress: (p) => progress(0.1 + 0.9 * (p.total ? p.done / p.total : 0), p.current ? basename(p.current) : undefined) }).catch((err) => {
        // the errors first, then a few of the warnings that explain them (missing files, unreadable images)
        if (err instanceof DatasetImportError) throw new Error(`nothing was imported from this ${fmt} dataset:\n${summarizeIssues(err.issues, { examplesPerGroup: 2, maxGroups: 6 }).join('\n')}`);
        throw err;
      });
      progress(1);
      if (r.unchanged) return { added: 0, message: `Nothing changed: this ${fmt} dataset is already in the project` };
      this.emit('project.changed', { revision: s.revision() });
      void this.warmFirstLevels(s, s.listImages({ sort: 'addedAt', limit: 200 }).items.map((i) => i.id));
      const warnLines = summarizeIssues(r.issues ?? [], { examplesPerGroup: 1, maxGroups: 3 });
      const warn = warnLines.length ? ` (${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}: ${warnLines.join('; ')})` : '';
      const skipped = r.skippedImages ? `, skipped ${r.skippedImages} unreadable or missing images` : '';
      return { added: r.images, message: `Imported ${r.images} images, ${r.annotations} annotations and ${r.classes} classes from ${fmt}${skipped}${warn}` };
    });
  }

  // ---- media (binary; not part of the JSON contract) ----

  /** Renders the editor's first-paint level of new images in the background, one at a time. */
  private async warmFirstLevels(s: ProjectStore, ids: number[]): Promise<void> {
    for (const id of ids) {
      if (this.store !== s) return; // project closed or switched
      const img = s.getImage(id);
      if (!img) continue;
      await this.pyramid.level(`${s.dir}#${id}`, s.imagePath(id), img.width, img.height, img.orientation, FIRST_LEVEL).catch(() => undefined);
    }
  }

  /** A pyramid level of image `id` whose longest side is ≥ `max` (full size when omitted). */
  async imageLevel(id: number, max?: number): Promise<MediaBytes> {
    const s = this.need();
    const img = s.getImage(id);
    if (!img) throw notFound(`image ${id} does not exist in this project`);
    return this.pyramid.level(`${s.dir}#${id}`, s.imagePath(id), img.width, img.height, img.orientation, max);
  }

  async thumbnail(id: number, size = 256): Promise<MediaBytes> {
    const s = this.need();
    if (!s.getImage(id)) throw notFound(`image ${id} does not exist in this project`);
    const bytes = await s.thumbnail(id, Math.max(32, Math.min(1024, Math.round(size))));
    const type = bytes[0] === 0xff && bytes[1] === 0xd8 ? 'image/jpeg' : 'image/webp';
    return { bytes, type };
  }

  // ---- uploads (server mode: the browser cannot hand us paths) ----

  /** Streams one uploaded file into the batch's staging folder (bounded: 413 past the limits). */
  async stageUpload(batch: string, fileName: string, body: AsyncIterable<Buffer> | NodeJS.ReadableStream | Buffer, declared?: number): Promise<void> {
    this.need();
    const source = Buffer.isBuffer(body) ? (async function* () { yield body; })() : body;
    await this.uploads.stage(batch, fileName, source, declared ?? (Buffer.isBuffer(body) ? body.length : undefined));
  }

  /** A backbone file picked or dropped in the browser: streamed to staging (never whole in memory), then imported. */
  async importBackboneUpload(fileName: string, body: NodeJS.ReadableStream, declared?: number): Promise<BackboneInfo> {
    const batch = `backbone-${randomUUID()}`;
    try {
      await this.uploads.stage(batch, fileName, body, declared);
      return await this.backbones.importStaged(fileName, this.uploads.files(batch)[0]!);
    } finally {
      this.uploads.removeBatch(batch);
    }
  }

  /** Imports (copies) a staged batch and deletes the staging folder afterwards. */
  importStaged(batch: string): string {
    const files = this.uploads.files(batch);
    // Files, not the folder: the staging folder's random name must not become part of the images' names.
    return this.startImport(files, 'copy', () => this.uploads.removeBatch(batch));
  }
}

/** The SQLite store's extra queries (ids, counts, class delete/merge) when present; test fakes lack them. */
function extras(s: ProjectStore): (ProjectStore & Pick<ProjectStoreExtras, 'imageIds' | 'imageCounts' | 'deleteClass' | 'mergeClasses'>) | null {
  const x = s as Partial<ProjectStoreExtras>;
  return typeof x.imageIds === 'function' && typeof x.imageCounts === 'function' && typeof x.deleteClass === 'function' && typeof x.mergeClasses === 'function'
    ? (s as ProjectStore & ProjectStoreExtras)
    : null;
}

export { ApiError };
