// The studio's backbone manager behind the API: the catalogue with what each backbone is good for, downloads as
// jobs (progress, cancel keeps the partial file, a second download resumes it, sha256 checked), import from a
// file (a path, or bytes uploaded by the browser in server mode), remove, and the default a fine-tune uses.
// Backbones live in the user's data folder, not in a project: these work with no project open, and a project
// closing does not cancel a download (they run on their own job runner).
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { BackboneCatalogueEntry, BackboneInfo, MethodInput, MethodOutput } from '../../contract/api';
import { CATALOGUE } from '../backbones/catalogue';
import { BackboneManager, type BackboneManifest } from '../backbones/manager';
import { getComputeInfo } from '../compute/engine';
import { dataDir as defaultDataDir } from '../compute/environment';
import { isNativeBackend } from '../training/fast-fine-tune';
import { badRequest, notFound } from './errors';
import { JobRunner, type Emit } from './jobs';

type H<K extends 'backbones.list' | 'backbones.download' | 'backbones.import' | 'backbones.remove' | 'backbones.setDefault'> = (input: MethodInput<K>) => Promise<MethodOutput<K>>;

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** The one choice the first-run flow recommends: ViT-S on an accelerated backend, ViT-Ti on a CPU. */
export function recommendedBackbone(backend = getComputeInfo()?.backend): string {
  return isNativeBackend(backend) ? 'vit-small-16-augreg-in21k' : 'vit-tiny-16-augreg-in21k';
}

export class BackboneService {
  readonly jobs: JobRunner;
  private readonly downloading = new Map<string, string>();

  constructor(
    emit: Emit,
    private readonly dataDir: () => string = () => process.env.HST_DATA_DIR ?? defaultDataDir(),
    private readonly fetchImpl?: typeof fetch,
  ) {
    this.jobs = new JobRunner(emit);
  }

  private manager(): BackboneManager {
    return new BackboneManager(this.dataDir());
  }

  private static info(m: BackboneManifest, def: string | null): BackboneInfo {
    return {
      id: m.id, title: m.title, bytes: m.bytes, sha256: m.sha256, licence: m.licence, source: m.source.kind,
      embedDim: m.shape.embed_dim ?? 0, depth: m.shape.depth ?? 0, patchSize: m.shape.patch_size ?? 0, isDefault: m.id === def,
    };
  }

  /** Installs bytes the browser uploaded (server mode: it cannot hand us a path). */
  async importUpload(fileName: string, bytes: Buffer): Promise<BackboneInfo> {
    const safe = basename(fileName.replace(/\\/g, '/')).replace(/[^\w.\- ]+/g, '_').slice(0, 120);
    if (!/\.safetensors$/i.test(safe)) throw badRequest(`'${fileName}' is not a .safetensors file: a backbone is a timm or transformers ViT .safetensors file`, 'name');
    const dir = mkdtempSync(join(tmpdir(), 'hst-backbone-upload-'));
    try {
      const path = join(dir, safe);
      await writeFile(path, bytes);
      return await this.handlers['backbones.import']({ path });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  readonly handlers: { [K in 'backbones.list' | 'backbones.download' | 'backbones.import' | 'backbones.remove' | 'backbones.setDefault']: H<K> } = {
    'backbones.list': async () => {
      const mgr = this.manager();
      const installed = await mgr.list();
      const def = (await mgr.getDefault()) ?? null;
      const effective = installed.some((b) => b.id === def) ? def : (installed[0]?.id ?? null);
      const catalogue: BackboneCatalogueEntry[] = [];
      for (const e of CATALOGUE) {
        catalogue.push({
          id: e.id, title: e.title, approxBytes: e.approxBytes, licence: e.licence, goodFor: e.goodFor, url: e.url, sha256: e.sha256,
          installed: installed.some((b) => b.id === e.id), partialBytes: this.downloading.has(e.id) ? 0 : await mgr.partialBytes(e.id),
        });
      }
      return { installed: installed.map((m) => BackboneService.info(m, effective)), catalogue, default: effective, recommended: recommendedBackbone(), dir: mgr.dir };
    },

    'backbones.download': async ({ id }) => {
      const entry = CATALOGUE.find((e) => e.id === id);
      if (!entry) throw notFound(`'${id}' is not in the backbone catalogue`);
      const running = this.downloading.get(id);
      if (running) return { jobId: running };
      const mgr = this.manager();
      const jobId = this.jobs.start('backbone', async ({ signal, progress }) => {
        try {
          const m = await mgr.download(entry, {
            signal,
            fetchImpl: this.fetchImpl,
            onProgress: (p) => {
              const total = p.total ?? entry.approxBytes;
              progress(total > 0 ? Math.min(0.99, p.received / total) : 0, `${id}: ${mb(p.received)} of ${p.total ? mb(p.total) : `~${mb(entry.approxBytes)}`}${p.resumedFrom ? ` (resumed at ${mb(p.resumedFrom)})` : ''}`);
            },
          });
          // the first backbone installed becomes the default, so the next Fine-tune just runs
          if ((await mgr.list()).length === 1) await mgr.setDefault(m.id);
          return { message: `installed ${m.id} (${mb(m.bytes)}, sha256 ${m.sha256.slice(0, 12)}…)` };
        } finally {
          this.downloading.delete(id);
        }
      });
      this.downloading.set(id, jobId);
      return { jobId };
    },

    'backbones.import': async ({ path, id }) => {
      const mgr = this.manager();
      let m: BackboneManifest;
      try {
        m = await mgr.import(path, { id });
      } catch (err) {
        throw badRequest(`${basename(path)} could not be imported as a backbone: ${(err as Error).message}`, 'path');
      }
      if ((await mgr.list()).length === 1) await mgr.setDefault(m.id);
      return BackboneService.info(m, (await mgr.getDefault()) ?? m.id);
    },

    'backbones.remove': async ({ id }) => {
      const running = this.downloading.get(id);
      if (running) this.jobs.cancel(running);
      if (!(await this.manager().remove(id))) throw notFound(`no backbone '${id}' is installed`);
      return { ok: true as const };
    },

    'backbones.setDefault': async ({ id }) => {
      try {
        await this.manager().setDefault(id);
      } catch (err) {
        throw notFound((err as Error).message);
      }
      return { ok: true as const };
    },
  };
}
