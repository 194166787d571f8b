// Importing image files and folders into a project: probe each file, skip duplicates and bad files with a
// reason, place it (copy or link), cache its thumbnail, and record it. Progress per file; cancellable.
import { availableParallelism } from 'node:os';
import type { ImageRecord, Split } from '../../contract/schemas';
import type { IngestOptions, IngestReport } from '../store/types';
import { placeMedia, writeThumb } from './media';
import { probeFile, RejectedImage, THUMB_SIZE, type ProbedImage } from './probe';
import { walk } from './walk';

export interface NewImage {
  hash: string;
  path: string;
  linked: boolean;
  fileName: string;
  format: string;
  bytes: number;
  width: number;
  height: number;
  orientation: number;
  /** default 'train' */
  split?: Split;
}

/** What ingest needs from the store. */
export interface IngestTarget {
  dir: string;
  findByHash(hash: string): { id: number; fileName: string } | undefined;
  insertImage(img: NewImage): ImageRecord;
}

export const newImageFrom = (p: ProbedImage, placed: { path: string; linked: boolean }, fileName: string, split?: Split): NewImage => ({
  hash: p.hash,
  path: placed.path,
  linked: placed.linked,
  fileName,
  format: p.format,
  bytes: p.bytes,
  width: p.width,
  height: p.height,
  orientation: p.orientation,
  split,
});

/** Files decoded at once: decoding is the slow part and sharp runs each on its own thread. */
export const INGEST_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()));

type Probed = { ok: true; p: ProbedImage } | { ok: false; reason: string };

const probeSafe = (file: string): Promise<Probed> =>
  probeFile(file).then(
    (p) => ({ ok: true as const, p }),
    (err) => ({ ok: false as const, reason: err instanceof RejectedImage ? err.message : `could not be imported: ${(err as Error).message}` }),
  );

/**
 * Images are committed one by one, in the order found, so cancelling keeps what was already imported (the
 * report says `cancelled: true` and lists it); a bad file never stops the rest. Decoding runs a few files
 * ahead; the duplicate check and the insert stay sequential, so two copies of one file cannot race.
 */
export async function ingestFiles(target: IngestTarget, paths: string[], opts: IngestOptions = {}): Promise<IngestReport> {
  const mode = opts.mode ?? 'copy';
  const { files, skipped } = await walk(paths, opts.signal);
  const report: IngestReport = { added: [], skipped, cancelled: false };
  const total = files.length;
  const ahead: Promise<Probed>[] = [];
  let next = 0;
  const fill = () => {
    while (ahead.length < INGEST_CONCURRENCY && next < files.length && !opts.signal?.aborted) ahead.push(probeSafe(files[next++].abs));
  };
  let done = 0;
  for (const f of files) {
    if (opts.signal?.aborted) break;
    opts.onProgress?.({ done, total, current: f.name });
    fill();
    const r = await ahead.shift()!;
    done++;
    if (!r.ok) {
      report.skipped.push({ path: f.abs, reason: r.reason });
      continue;
    }
    const p = r.p;
    try {
      const dup = target.findByHash(p.hash);
      if (dup) {
        report.skipped.push({ path: f.abs, reason: `duplicate of image ${dup.id} (${dup.fileName}): same content` });
        continue;
      }
      const placed = await placeMedia(target.dir, f.abs, p.data, p.hash, p.ext, mode);
      await writeThumb(target.dir, p.hash, THUMB_SIZE, p.thumb);
      report.added.push(target.insertImage(newImageFrom(p, placed, f.name)));
    } catch (err) {
      report.skipped.push({ path: f.abs, reason: `could not be imported: ${(err as Error).message}` });
    }
  }
  await Promise.all(ahead); // decodes started before a cancel: let them finish, discard them
  report.cancelled = !!opts.signal?.aborted;
  opts.onProgress?.({ done, total });
  return report;
}
