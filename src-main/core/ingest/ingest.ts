// Importing image files and folders into a project: probe each file, skip duplicates and bad files with a
// reason, place it (copy or link), cache its thumbnail, and record it. Progress per file; cancellable.
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

/**
 * Images are committed one by one, so cancelling keeps what was already imported (the report says
 * `cancelled: true` and lists it); a bad file never stops the rest.
 */
export async function ingestFiles(target: IngestTarget, paths: string[], opts: IngestOptions = {}): Promise<IngestReport> {
  const mode = opts.mode ?? 'copy';
  const { files, skipped } = await walk(paths, opts.signal);
  const report: IngestReport = { added: [], skipped, cancelled: false };
  const total = files.length;
  let done = 0;
  for (const f of files) {
    if (opts.signal?.aborted) break;
    opts.onProgress?.({ done, total, current: f.name });
    done++;
    try {
      const p = await probeFile(f.abs);
      const dup = target.findByHash(p.hash);
      if (dup) {
        report.skipped.push({ path: f.abs, reason: `duplicate of image ${dup.id} (${dup.fileName}): same content` });
        continue;
      }
      const placed = await placeMedia(target.dir, f.abs, p.data, p.hash, p.ext, mode);
      await writeThumb(target.dir, p.hash, THUMB_SIZE, p.thumb);
      report.added.push(target.insertImage(newImageFrom(p, placed, f.name)));
    } catch (err) {
      if (err instanceof RejectedImage) report.skipped.push({ path: f.abs, reason: err.message });
      else report.skipped.push({ path: f.abs, reason: `could not be imported: ${(err as Error).message}` });
    }
  }
  report.cancelled = !!opts.signal?.aborted;
  opts.onProgress?.({ done, total });
  return report;
}
