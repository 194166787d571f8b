// Backbone store in <dataDir>/backbones/: <id>.safetensors + <id>.json (manifest). Download with progress,
// HTTP Range resume from <id>.safetensors.part, sha256 check; import from a local file; list; remove.
// Nothing here ever substitutes random weights: a missing backbone is an error that says how to get one.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../io/safetensors';
import { readBackboneFile } from '../model/backbone-load';
import type { HstConfigInput } from '../model/config';
import { catalogueEntry, type CatalogueEntry } from './catalogue';

export interface BackboneManifest {
  id: string;
  title: string;
  file: string;
  bytes: number;
  sha256: string;
  source: { kind: 'download'; url: string } | { kind: 'import'; path: string };
  licence: string;
  /** the ViT shape read from the weights (num_heads from the catalogue or given at import) */
  shape: Pick<HstConfigInput, 'embed_dim' | 'depth' | 'patch_size' | 'img_size' | 'layer_scale' | 'mlp_ratio' | 'num_heads' | 'vit_norm_eps'>;
  mean: number[];
  std: number[];
  installedAt: string;
}

export interface DownloadProgress {
  id: string;
  received: number;
  total: number | null;
  resumedFrom: number;
}

const DEFAULT_FILE = 'default.json';

/** Network errors that mean "this machine cannot reach the server", as Node's fetch reports them in `cause.code`. */
const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ENETDOWN']);

/** A download that could not reach its server: the studio offers the file import instead. */
export class BackboneOfflineError extends Error {
  readonly offline = true;
  constructor(message: string) {
    super(message);
    this.name = 'BackboneOfflineError';
  }
}

function networkCode(err: unknown): string | null {
  const e = err as { code?: unknown; cause?: { code?: unknown; errors?: { code?: unknown }[] } };
  // happy-eyeballs connects report an AggregateError of one error per address
  const code = e?.cause?.code ?? e?.cause?.errors?.[0]?.code ?? e?.code;
  return typeof code === 'string' ? code : null;
}
const ID_RE = /^[a-z0-9][a-z0-9._-]{0,80}$/i;

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class BackboneManager {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'backbones');
  }

  private paths(id: string) {
    if (!ID_RE.test(id)) throw new Error(`'${id}' is not a valid backbone id (letters, digits, . _ -)`);
    return { file: join(this.dir, `${id}.safetensors`), manifest: join(this.dir, `${id}.json`), part: join(this.dir, `${id}.safetensors.part`) };
  }

  async list(): Promise<BackboneManifest[]> {
    if (!existsSync(this.dir)) return [];
    const out: BackboneManifest[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      if (!name.endsWith('.json') || name === DEFAULT_FILE) continue;
      try {
        const m = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as BackboneManifest;
        if (existsSync(join(this.dir, m.file))) out.push(m);
      } catch {
        /* a foreign or damaged manifest is not a backbone; ignore it */
      }
    }
    return out;
  }

  async get(id: string): Promise<(BackboneManifest & { path: string }) | null> {
    const p = this.paths(id);
    if (!existsSync(p.manifest) || !existsSync(p.file)) return null;
    const m = JSON.parse(await readFile(p.manifest, 'utf8')) as BackboneManifest;
    return { ...m, path: p.file };
  }

  /**
   * The file of an installed backbone, or an error telling the user how to get it. `'random'` is not a
   * backbone: callers that allow a random ViT must check for it before asking here.
   */
  async require(id: string): Promise<BackboneManifest & { path: string }> {
    const m = await this.get(id);
    if (m) return m;
    const known = catalogueEntry(id);
    throw new Error(
      known
        ? `backbone '${id}' is not installed: download it with \`hst-studio backbone download ${id}\` (${known.hfRepo}) or import a local copy with \`hst-studio backbone import FILE --id ${id}\``
        : `backbone '${id}' is not installed and not in the catalogue: import it with \`hst-studio backbone import FILE --id ${id}\``,
    );
  }

  async remove(id: string): Promise<boolean> {
    const p = this.paths(id);
    const had = existsSync(p.file) || existsSync(p.manifest);
    await Promise.all([rm(p.file, { force: true }), rm(p.manifest, { force: true }), rm(p.part, { force: true })]);
    if ((await this.getDefault()) === id) await rm(join(this.dir, DEFAULT_FILE), { force: true });
    return had;
  }

  /** The backbone a run uses when none is named (null: the first installed one). */
  async getDefault(): Promise<string | null> {
    try {
      const v = JSON.parse(await readFile(join(this.dir, DEFAULT_FILE), 'utf8')) as { id?: unknown };
      return typeof v.id === 'string' ? v.id : null;
    } catch {
      return null;
    }
  }

  async setDefault(id: string): Promise<void> {
    if (!(await this.get(id))) throw new Error(`backbone '${id}' is not installed`);
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, DEFAULT_FILE), JSON.stringify({ id }));
  }

  /** Bytes of an unfinished download kept for a resume (0: none). */
  async partialBytes(id: string): Promise<number> {
    const p = this.paths(id);
    return existsSync(p.part) ? (await stat(p.part)).size : 0;
  }

  /** Validates a local timm/transformers ViT safetensors file and copies it into the store. */
  async import(path: string, opts: { id?: string; numHeads?: number; title?: string; licence?: string } = {}): Promise<BackboneManifest> {
    const known = opts.id ? catalogueEntry(opts.id) : undefined;
    const weights = await readBackboneFile(path, opts.numHeads ?? (known ? undefined : undefined));
    const id = opts.id ?? (path.split(/[\\/]/).pop() ?? 'backbone').replace(/\.safetensors$/i, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
    const p = this.paths(id);
    await mkdir(this.dir, { recursive: true });
    const tmp = `${p.file}.import-${process.pid}`;
    await copyFile(path, tmp);
    await rename(tmp, p.file);
    const manifest: BackboneManifest = {
      id, title: opts.title ?? known?.title ?? id, file: `${id}.safetensors`, bytes: (await stat(p.file)).size, sha256: await sha256File(p.file),
      source: { kind: 'import', path }, licence: opts.licence ?? known?.licence ?? 'unknown (imported file)',
      shape: weights.shape, mean: known?.mean ?? [0.5, 0.5, 0.5], std: known?.std ?? [0.5, 0.5, 0.5], installedAt: new Date().toISOString(),
    };
    await writeFile(p.manifest, JSON.stringify(manifest, null, 1));
    return manifest;
  }

  /**
   * Downloads a catalogue backbone (or any entry-shaped target), resuming a previous partial download with an
   * HTTP Range request, then checks size, sha256 (when known) and that it is a usable ViT before installing it.
   */
  async download(
    target: string | CatalogueEntry,
    opts: { onProgress?: (p: DownloadProgress) => void; signal?: AbortSignal; numHeads?: number; fetchImpl?: typeof fetch } = {},
  ): Promise<BackboneManifest> {
    const entry = typeof target === 'string' ? catalogueEntry(target) : target;
    if (!entry) throw new Error(`'${String(target)}' is not in the backbone catalogue; see \`hst-studio backbone list --catalogue\``);
    const p = this.paths(entry.id);
    await mkdir(this.dir, { recursive: true });
    const doFetch = opts.fetchImpl ?? fetch;
    const have = existsSync(p.part) ? (await stat(p.part)).size : 0;
    let res: Response;
    try {
      res = await doFetch(entry.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: opts.signal, redirect: 'follow' });
    } catch (err) {
      if (opts.signal?.aborted) throw new Error(`download of ${entry.id} cancelled${have ? ` (${have} bytes kept: download again to resume)` : ''}`);
      const code = networkCode(err);
      if (code && OFFLINE_CODES.has(code)) {
        throw new BackboneOfflineError(
          `cannot reach ${new URL(entry.url).host} (${code}): this computer seems to be offline. Get ${entry.hfRepo}'s model.safetensors ` +
            `another way (e.g. on another computer) and import the file (Import from file, or \`hst-studio backbone import FILE --id ${entry.id}\`)` +
            `${have ? `; the ${have} bytes downloaded so far are kept for a resume` : ''}`,
        );
      }
      throw new Error(`download of ${entry.id} from ${entry.url} failed: ${(err as Error).message}${have ? ` (${have} bytes kept; run again to resume)` : ''}`);
    }
    let resumedFrom = 0;
    let total: number | null = null;
    if (res.status === 206 && have > 0) {
      const range = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== have) throw new Error(`download of ${entry.id}: server resumed at the wrong offset (${res.headers.get('content-range')})`);
      resumedFrom = have;
      total = range[3] === '*' ? null : Number(range[3]);
    } else if (res.status === 200) {
      const len = res.headers.get('content-length');
      total = len ? Number(len) : null;
    } else if (res.status === 416 && have > 0) {
      // The partial file is already complete (or stale): start over.
      await rm(p.part, { force: true });
      return this.download(target, opts);
    } else {
      throw new Error(`download of ${entry.id} from ${entry.url} failed: HTTP ${res.status} ${res.statusText}`);
    }
    if (!res.body) throw new Error(`download of ${entry.id}: empty response`);
    const out = createWriteStream(p.part, { flags: resumedFrom > 0 ? 'a' : 'w' });
    let received = resumedFrom;
    try {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
        if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
        opts.onProgress?.({ id: entry.id, received, total, resumedFrom });
      }
    } catch (err) {
      await new Promise<void>((r) => out.end(() => r()));
      if (opts.signal?.aborted) throw new Error(`download of ${entry.id} cancelled after ${received} bytes (kept: download again to resume)`);
      throw new Error(`download of ${entry.id} interrupted after ${received} bytes (${(err as Error).message}); run the download again to resume`);
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (total !== null && received !== total) {
      throw new Error(`download of ${entry.id} ended at ${received} of ${total} bytes; run the download again to resume`);
    }
    const digest = await sha256File(p.part);
    if (entry.sha256 && digest !== entry.sha256.toLowerCase()) {
      await rm(p.part, { force: true });
      throw new Error(`download of ${entry.id}: checksum mismatch (sha256 ${digest}, expected ${entry.sha256}); the file was discarded`);
    }
    try {
      await readSafetensorsHeader(p.part);
    } catch (err) {
      await rm(p.part, { force: true });
      throw new Error(`download of ${entry.id} is not a valid safetensors file (${(err as Error).message}); the file was discarded`);
    }
    const weights = await readBackboneFile(p.part, opts.numHeads);
    await rename(p.part, p.file);
    const manifest: BackboneManifest = {
      id: entry.id, title: entry.title, file: `${entry.id}.safetensors`, bytes: received, sha256: digest,
      source: { kind: 'download', url: entry.url }, licence: entry.licence, shape: weights.shape, mean: entry.mean, std: entry.std,
      installedAt: new Date().toISOString(),
    };
    await writeFile(p.manifest, JSON.stringify(manifest, null, 1));
    return manifest;
  }

  /** Re-hashes an installed file against its manifest (e.g. before a long training run). */
  async verify(id: string): Promise<boolean> {
    const m = await this.require(id);
    return (await sha256File(m.path)) === m.sha256;
  }
}
