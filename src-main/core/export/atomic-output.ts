// Export outputs appear all at once or not at all: everything is written under `OUT.partial-<random>` and renamed
// onto OUT at the very end. On any failure (disk full, cancel, a bug) the partial is removed, so nothing half
// written is ever left looking like a finished export.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ensureDir } from '../io/safe-mkdir';

/** How bytes reach the disk; tests inject one that fails (ENOSPC after N bytes). */
export type WriteFn = (path: string, data: Uint8Array | string) => Promise<void>;

export interface ExportIo {
  /** cancels the export between steps; the partial output is removed */
  signal?: AbortSignal;
  /** replaces fs.writeFile (fault injection) */
  write?: WriteFn;
  /** progress 0..1 with a short label */
  onProgress?: (fraction: number, label: string) => void;
}

export class ExportCancelled extends Error {
  constructor(out: string) {
    super(`export cancelled; nothing was written to ${out}`);
    this.name = 'ExportCancelled';
  }
}

export class AtomicOutput {
  readonly partial: string;
  bytes = 0;
  private done = false;

  get committed(): boolean {
    return this.done;
  }

  private constructor(readonly out: string, readonly kind: 'file' | 'dir', private readonly io: ExportIo) {
    this.partial = `${out}.partial-${randomBytes(4).toString('hex')}`;
  }

  /** Starts an export to `out` (a file or a folder). Refuses to overwrite an existing output. */
  static async begin(out: string, kind: 'file' | 'dir', io: ExportIo = {}): Promise<AtomicOutput> {
    if (existsSync(out)) throw new Error(`${out} already exists; choose another output path or remove it first`);
    const o = new AtomicOutput(out, kind, io);
    o.checkCancel();
    try {
      // never a recursive mkdir: under /proc it loops forever; ensureDir refuses such targets at once
      ensureDir(dirname(out), { what: 'export folder', field: 'out' });
      if (kind === 'dir') await mkdir(o.partial);
    } catch (err) {
      if ((err as Error).name === 'PathError') throw err;
      throw describeIoError(err, out);
    }
    return o;
  }

  checkCancel(): void {
    if (this.io.signal?.aborted) throw new ExportCancelled(this.out);
  }

  progress(fraction: number, label: string): void {
    this.io.onProgress?.(Math.max(0, Math.min(1, fraction)), label);
  }

  /** Path inside the partial output: the partial file itself ('') or a member of the partial folder. */
  path(name = ''): string {
    return name ? join(this.partial, name) : this.partial;
  }

  /** Writes one member (folder output) or the whole file (name ''), checking for cancel first. */
  async write(name: string, data: Uint8Array | string): Promise<void> {
    this.checkCancel();
    const p = this.path(name);
    await (this.io.write ?? ((f, d) => writeFile(f, d)))(p, data);
    this.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  }

  /** Makes the output visible under its final name. */
  async commit(): Promise<string> {
    this.checkCancel();
    if (existsSync(this.out)) throw new Error(`${this.out} appeared while exporting; the export was kept at ${this.partial}`);
    await rename(this.partial, this.out);
    this.done = true;
    return this.out;
  }

  /** Removes the partial output (idempotent). */
  async discard(): Promise<void> {
    if (this.done) return;
    await rm(this.partial, { recursive: true, force: true });
  }

  /** Runs `body`, commits on success, discards the partial and rethrows a clear error on failure. */
  static async run<T>(out: string, kind: 'file' | 'dir', io: ExportIo, body: (o: AtomicOutput) => Promise<T>): Promise<T> {
    const o = await AtomicOutput.begin(out, kind, io);
    try {
      const r = await body(o);
      await o.commit();
      return r;
    } catch (err) {
      await o.discard().catch(() => undefined);
      throw err instanceof ExportCancelled ? err : describeIoError(err, out);
    }
  }
}

/** Turns OS errors into sentences naming the output; other errors pass through. */
export function describeIoError(err: unknown, out: string): Error {
  const e = err as NodeJS.ErrnoException;
  const what = `export to ${out} failed`;
  switch (e?.code) {
    case 'ENOSPC':
      return new Error(`${what}: the disk is full (ENOSPC); free some space and try again. Nothing was left at ${out}.`);
    case 'EDQUOT':
      return new Error(`${what}: the disk quota is exhausted (EDQUOT); free some space and try again. Nothing was left at ${out}.`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new Error(`${what}: no permission to write there (${e.code}); choose another folder. Nothing was left at ${out}.`);
    default:
      return err instanceof Error ? err : new Error(`${what}: ${String(err)}`);
  }
}
