// Exports made for download (issue 18): a dataset (COCO, YOLO, VOC, LabelMe) or a model version is written to
// a private temp folder, zipped with core/io/zip-writer, and offered under an unguessable id; the server
// (GET /download/<id>) and the Electron app:// protocol stream the zip with Content-Disposition: attachment.
// Progress and cancel come from the job runner like every other job.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Split } from '../../contract/schemas';
import { writeDataset, type ExportFormat } from '../datasets/write-dataset';
import { zipFolder } from '../io/zip-writer';
import type { ProjectStore, ProjectStoreExtras } from '../store/types';
import { exportInWorker, untilDone } from '../jobs/worker-client';
import type { Handlers } from './dispatch';
import { badRequest, conflict } from './errors';
import { adapterRefusal } from './version-facts';
import type { JobContext, JobRunner } from './jobs';
import { ensureDir } from '../io/safe-mkdir';

export interface ReadyDownload {
  file: string;
  name: string;
  bytes: number;
}

/** How many finished zips are kept for (re-)download; older ones are deleted. */
const KEPT = 8;

/** A file name without path separators or control characters, for Content-Disposition and the zip's folder. */
export function downloadName(s: string): string {
  return s.replace(/[^\w.\- ]+/g, '_').replace(/^[.\s]+/, '').slice(0, 120) || 'export';
}

export class ExportDownloads {
  private root: string | null = null;
  private ready = new Map<string, ReadyDownload>();

  constructor(private jobs: JobRunner, private need: () => ProjectStore) {}

  /** The zip offered under `id`, or null (unknown, expired, malformed id). */
  get(id: string): ReadyDownload | null {
    return /^[a-f0-9]{32}$/.test(id) ? this.ready.get(id) ?? null : null;
  }

  close(): void {
    if (this.root) rmSync(this.root, { recursive: true, force: true });
    this.root = null;
    this.ready.clear();
  }

  private async workDir(): Promise<string> {
    this.root ??= mkdtempSync(join(tmpdir(), 'hst-export-'));
    const dir = join(this.root, randomBytes(8).toString('hex'));
    await mkdir(dir, { recursive: true });
    return dir;
  }

  private offer(file: string, name: string): { id: string; name: string; bytes: number } {
    const id = randomBytes(16).toString('hex');
    const bytes = statSync(file).size;
    this.ready.set(id, { file, name, bytes });
    for (const [old, d] of this.ready) {
      if (this.ready.size <= KEPT) break;
      this.ready.delete(old);
      rmSync(d.file, { force: true });
    }
    return { id, name, bytes };
  }

  /** Zips `dir` (as one top folder named after the zip) and offers it; the folder is removed afterwards. */
  private async zipAndOffer(dir: string, base: string, ctx: JobContext, from: number) {
    const file = `${dir}.zip`;
    try {
      const r = await zipFolder(dir, file, { prefix: base, signal: ctx.signal, onProgress: (d, t) => ctx.progress(from + (1 - from) * (d / t), `zipping ${d}/${t} files`) });
      if (ctx.signal.aborted) throw new Error('cancelled');
      return { download: this.offer(file, `${base}.zip`), files: r.files };
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  readonly handlers: Pick<Handlers, 'export.dataset' | 'export.modelDownload'> = {
    'export.dataset': ({ format, splits, out }) => {
      const s = this.need();
      // a folder that can never be written (/proc, a file as folder, a symlink loop) is a 400 now, not a failed job
      if (out) ensureDir(dirname(resolve(out)), { what: 'export folder', field: 'out' });
      return { jobId: this.jobs.start('export-dataset', (ctx) => this.datasetJob(s, format, splits, out, ctx)) };
    },
    'export.modelDownload': ({ format, version }) => {
      const s = this.need();
      const versions = (s as Partial<Pick<ProjectStoreExtras, 'listModelVersions'>>).listModelVersions?.() ?? [];
      if (versions.length === 0) throw conflict('there is no trained model to export: press Fine-tune first');
      const picked = version !== undefined ? versions.find((v) => v.id === version) : (versions.find((v) => v.active) ?? versions.at(-1));
      const refusal = format === 'adapter' && picked ? adapterRefusal(picked) : null;
      if (refusal) throw badRequest(refusal, 'format');
      return { jobId: this.jobs.start('export', (ctx) => this.modelJob(s, format, version, ctx)) };
    },
  };

  private async datasetJob(s: ProjectStore, format: ExportFormat, splits: Split[] | undefined, out: string | undefined, ctx: JobContext) {
    ctx.progress(0.02, 'collecting labels');
    const ds = s.toDataset({ splits });
    const what = `${ds.images.length} image${ds.images.length === 1 ? '' : 's'}, ${ds.annotations.length} annotation${ds.annotations.length === 1 ? '' : 's'}`;
    if (out) {
      const target = resolve(out);
      ctx.progress(0.1, `writing ${format}`);
      const r = await writeDataset(format, ds, target, { splits });
      return { message: `Exported ${what} as ${format} to ${target} (${r.files.length} files)${notes(r)}` };
    }
    const base = downloadName(`${s.name}-${format}`);
    const dir = await this.workDir();
    ctx.progress(0.1, `writing ${format}`);
    // hard links where the temp folder shares the project's disk: the zip reads the bytes once either way
    const r = await writeDataset(format, ds, dir, { splits, images: 'link' });
    if (ctx.signal.aborted) {
      await rm(dir, { recursive: true, force: true });
      return { status: 'cancelled' as const, message: 'export cancelled' };
    }
    const z = await this.zipAndOffer(dir, base, ctx, 0.4);
    return { message: `Exported ${what} as ${format}: ${z.download.name} (${mb(z.download.bytes)})${notes(r)}`, download: z.download };
  }

  private async modelJob(s: ProjectStore, format: 'tfjs' | 'onnx' | 'safetensors' | 'adapter', version: number | undefined, ctx: JobContext) {
    const dir = await this.workDir();
    const out = join(dir, 'model');
    const job = exportInWorker({ project: s.dir, format, out, ...(version !== undefined ? { version } : {}) }, { onProgress: (m) => ctx.progress(0.9 * m.fraction, m.message) });
    try {
      const r = await untilDone(job, ctx.signal);
      if (!('result' in r)) {
        await rm(dir, { recursive: true, force: true });
        return { status: 'cancelled' as const, message: r.cancelled ?? 'export cancelled' };
      }
      const base = downloadName(`${s.name}-model-v${r.result.version ?? 'x'}-${format}`);
      const z = await this.zipAndOffer(dir, base, ctx, 0.9);
      return { message: `Exported model version ${r.result.version} as ${format}: ${z.download.name} (${mb(z.download.bytes)})`, download: z.download };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e6 ? 2 : 1)} MB`;
const notes = (r: { converted: string[]; dropped: string[] }) => {
  const all = [...r.converted, ...r.dropped.map((d) => `dropped: ${d}`)];
  return all.length ? `; ${all.slice(0, 3).join('; ')}` : '';
};
