// The studio's API implemented over the core, independent of transport: the HTTP server and the Electron
// IPC layer both call `service.handlers` through `dispatch` (which validates every payload both ways).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { DoctorReport, ProjectInfo } from '../../contract/api';
import type { Annotation, Changeset } from '../../contract/schemas';
import type { ProjectStore, ProjectStoreExtras } from '../store/types';
import { generateDemo } from '../demo';
import { dispatch, type Handlers } from './dispatch';
import { ApiError, badRequest, conflict, notFound } from './errors';
import { ExportDownloads } from './export-downloads';
import { FIRST_LEVEL, ImagePyramid, type MediaBytes } from './image-pyramid';
import { JobRunner, type Emit } from './jobs';
import { LoopService } from './loop-service';
import { RecentList } from './recent';

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
}

export class StudioService {
  readonly jobs: JobRunner = new JobRunner((e, p) => this.emit(e, p));
  /** fine-tune, predictions, suggestions, label-next, export, incremental updates */
  readonly loop: LoopService = new LoopService({ need: () => this.need(), emit: (e, p) => this.emit(e, p), jobs: this.jobs, apply: (cs) => this.applyAndAnnounce(this.need(), cs) });
  /** dataset and model exports zipped for download (GET download/<id>) */
  readonly downloads: ExportDownloads = new ExportDownloads(this.jobs, () => this.need());
  private store: ProjectStore | null = null;
  private pyramid = new ImagePyramid();
  private recent: RecentList;
  private listeners = new Set<Emit>();
  private uploadRoot: string | null = null;

  constructor(private opts: StudioServiceOptions) {
    this.recent = opts.recent ?? new RecentList();
    if (opts.emit) this.listeners.add(opts.emit);
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
    return this.info(s);
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
    this.downloads.close();
    if (this.uploadRoot) rmSync(this.uploadRoot, { recursive: true, force: true });
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
      const s = await this.opts.stores.create(resolve(dir), name);
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
    'project.open': async ({ dir }) => this.adopt(await this.opts.stores.open(resolve(dir))),
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
    'images.import': ({ paths, mode }) => ({ jobId: this.startImport(paths.map((p) => resolve(p)), mode ?? 'copy') }),

    'datasets.import': ({ path, format }) => ({ jobId: this.startDatasetImport(resolve(path), format) }),

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

    'jobs.cancel': ({ jobId }) => {
      if (!this.jobs.cancel(jobId) && !this.jobs.isFinished(jobId)) throw notFound(`job ${jobId} is not running`);
      return { ok: true as const };
    },
    'jobs.get': ({ jobId }) => {
      const j = this.jobs.get(jobId);
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
      if (!fmt) throw new Error(`${path}: not a dataset this studio can read (COCO JSON, YOLO, Pascal VOC or LabelMe)`);
      progress(0.05, `reading ${fmt}`);
      const ds = await readDataset(fmt, path);
      const errors = ds.issues.filter((i) => i.level === 'error');
      if (errors.length) {
        const shown = errors.slice(0, 3).map((e) => `${e.file}${e.record ? ` ${e.record}` : ''}: ${e.message}`).join('; ');
        throw new Error(`${errors.length} problem${errors.length === 1 ? '' : 's'} in the dataset, nothing imported: ${shown}`);
      }
      const r = await s.importDataset(ds, { signal, onProgress: (p) => progress(0.1 + 0.9 * (p.total ? p.done / p.total : 0), p.current ? basename(p.current) : undefined) });
      progress(1);
      this.emit('project.changed', { revision: s.revision() });
      void this.warmFirstLevels(s, s.listImages({ sort: 'addedAt', limit: 200 }).items.map((i) => i.id));
      const warn = r.warnings.length ? ` (${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}: ${r.warnings.slice(0, 2).join('; ')})` : '';
      return { added: r.images, message: `Imported ${r.images} images, ${r.annotations} annotations and ${r.classes} classes from ${fmt}${warn}` };
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

  private batchDir(batch: string): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(batch)) throw badRequest('upload batch id must be 1–64 letters, digits, - or _', 'batch');
    this.uploadRoot ??= mkdtempSync(join(tmpdir(), 'hst-upload-'));
    return join(this.uploadRoot, batch);
  }

  /** Stores one uploaded file under a sanitised name in the batch's staging folder. */
  async stageUpload(batch: string, fileName: string, bytes: Buffer): Promise<void> {
    this.need();
    const safe = basename(fileName.replace(/\\/g, '/')).replace(/[^\w.\- ]+/g, '_').slice(0, 180);
    if (!safe || safe === '.' || safe === '..') throw badRequest(`upload '${fileName}' has no usable file name`, 'name');
    const dir = this.batchDir(batch);
    await mkdir(dir, { recursive: true });
    // Same-named files from different folders must not overwrite each other.
    let target = join(dir, safe);
    for (let i = 1; await exists(target); i++) target = join(dir, `${i}-${safe}`);
    await writeFile(target, bytes);
  }

  /** Imports (copies) a staged batch and deletes the staging folder afterwards. */
  importStaged(batch: string): string {
    const dir = this.batchDir(batch);
    let files: string[];
    try {
      files = readdirSync(dir).map((f) => join(dir, f));
    } catch {
      throw badRequest(`upload batch '${batch}' has no files: upload them before committing`, 'batch');
    }
    if (!files.length) throw badRequest(`upload batch '${batch}' has no files`, 'batch');
    // Files, not the folder: the staging folder's random name must not become part of the images' names.
    return this.startImport(files, 'copy', () => rmSync(dir, { recursive: true, force: true }));
  }
}

/** The SQLite store's extra queries (ids, counts, class delete/merge) when present; test fakes lack them. */
function extras(s: ProjectStore): (ProjectStore & Pick<ProjectStoreExtras, 'imageIds' | 'imageCounts' | 'deleteClass' | 'mergeClasses'>) | null {
  const x = s as Partial<ProjectStoreExtras>;
  return typeof x.imageIds === 'function' && typeof x.imageCounts === 'function' && typeof x.deleteClass === 'function' && typeof x.mergeClasses === 'function'
    ? (s as ProjectStore & ProjectStoreExtras)
    : null;
}

async function exists(p: string): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  return access(p).then(
    () => true,
    () => false,
  );
}

export { ApiError };
