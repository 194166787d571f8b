// Staging of browser uploads (server mode: the browser cannot hand us paths). Each file streams to disk as it
// arrives — never whole in memory — under a per-process folder <tmp>/hst-studio-uploads/<pid>-<random>/<batch>/,
// with a cap per file and per batch. A folder whose process is gone (a crash, a kill) is removed at the next start.
import { createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ensureDir } from '../io/safe-mkdir';
import { ApiError, badRequest } from './errors';

export const UPLOAD_LIMITS = {
  /** bytes of one uploaded file (the largest image the ingest accepts is far smaller) */
  fileBytes: 1024 * 1024 * 1024,
  /** bytes of one batch, all files together */
  batchBytes: 64 * 1024 * 1024 * 1024,
  /** files in one batch */
  batchFiles: 100_000,
} as const;

const PARENT = 'hst-studio-uploads';

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes staging folders of processes that no longer run; returns how many were removed. */
export function cleanStaleStaging(base: string = tmpdir()): number {
  const parent = join(base, PARENT);
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const pid = Number(/^(\d+)-/.exec(e)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) continue;
    rmSync(join(parent, e), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

export class UploadStaging {
  private root: string | null = null;
  private batches = new Map<string, { files: number; bytes: number }>();

  constructor(
    private readonly base: string = tmpdir(),
    readonly limits: { fileBytes: number; batchBytes: number; batchFiles: number } = UPLOAD_LIMITS,
  ) {}

  batchDir(batch: string): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(batch)) throw badRequest('upload batch id must be 1–64 letters, digits, - or _', 'batch');
    if (!this.root) {
      const parent = join(this.base, PARENT);
      ensureDir(parent, { what: 'upload staging folder' });
      this.root = mkdtempSync(join(parent, `${process.pid}-`));
    }
    return join(this.root, batch);
  }

  /** Streams one file into the batch under a sanitised name; refuses (413) past the limits, leaving nothing behind. */
  async stage(batch: string, fileName: string, source: AsyncIterable<Buffer> | NodeJS.ReadableStream, declared?: number): Promise<void> {
    const safe = basename(fileName.replace(/\\/g, '/')).replace(/[^\w.\- ]+/g, '_').slice(0, 180);
    if (!safe || safe === '.' || safe === '..') throw badRequest(`upload '${fileName.slice(0, 200)}' has no usable file name`, 'name');
    const { fileBytes, batchBytes, batchFiles } = this.limits;
    if (declared !== undefined && declared > fileBytes) throw new ApiError(413, `upload '${safe}' is ${declared} bytes; the limit per file is ${fileBytes}`);
    const dir = this.batchDir(batch);
    const used = this.batches.get(batch) ?? { files: 0, bytes: 0 };
    if (used.files >= batchFiles) throw new ApiError(413, `upload batch '${batch}' already holds ${batchFiles} files; that is the limit`);
    await mkdir(dir, { recursive: false }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    // same-named files from different folders must not overwrite each other
    let target = join(dir, safe);
    for (let i = 1; await exists(target); i++) target = join(dir, `${i}-${safe}`);
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > fileBytes) return cb(new ApiError(413, `upload '${safe}' exceeds the limit of ${fileBytes} bytes per file`));
        if (used.bytes + size > batchBytes) return cb(new ApiError(413, `upload batch '${batch}' exceeds the limit of ${batchBytes} bytes`));
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source as NodeJS.ReadableStream, counter, createWriteStream(target, { flags: 'wx' }));
    } catch (err) {
      await rm(target, { force: true });
      throw err;
    }
    used.files++;
    used.bytes += size;
    this.batches.set(batch, used);
  }

  /** The staged files of a batch (absolute paths); 400 when there are none. */
  files(batch: string): string[] {
    const dir = this.batchDir(batch);
    let files: string[];
    try {
      files = readdirSync(dir).map((f) => join(dir, f));
    } catch {
      throw badRequest(`upload batch '${batch}' has no files: upload them before committing`, 'batch');
    }
    if (!files.length) throw badRequest(`upload batch '${batch}' has no files`, 'batch');
    return files;
  }

  removeBatch(batch: string): void {
    this.batches.delete(batch);
    rmSync(this.batchDir(batch), { recursive: true, force: true });
  }

  close(): void {
    if (this.root) rmSync(this.root, { recursive: true, force: true });
    this.root = null;
    this.batches.clear();
  }
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
