// Neutral Dataset → COCO instances JSON (+ images/). Source ids (image keys, category and annotation ids) are
// reused when they are valid and unique, so COCO → studio → COCO gives back the same ids; masks are written as
// compressed RLE exactly as stored. A folder gets one file per split the way CVAT and Datumaro write COCO
// (annotations/instances_<split>.json beside images/<split>/), which importCoco reads back into the same splits;
// a .json path gets one file with every image (images/ beside it).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { polygonsArea, ringArea, ringsBbox } from '../geometry/rasterize';
import { area as rleArea, decompress, toBbox } from '../geometry/rle';
import { type ExportReport, type ExportOptions, UniqueNames, outputName, placeImage, plural, selectSplits } from './export-common';
import type { Split } from '../../contract/schemas';
import type { Dataset } from './types';

export type CocoExportOptions = ExportOptions;

const SPLIT_ORDER: Split[] = ['train', 'val', 'test'];

/** `out` is a folder (annotations/instances_<split>.json + images/<split>/) or a .json path (images/ beside it). */
export async function exportCoco(input: Dataset, out: string, opts: CocoExportOptions = {}): Promise<ExportReport> {
  const ds = selectSplits(input, opts.splits);
  const isJson = out.toLowerCase().endsWith('.json');
  const outDir = path.resolve(isJson ? path.dirname(out) : out);
  await mkdir(outDir, { recursive: true });
  const report: ExportReport = { files: [], converted: [], dropped: [] };

  // images: keep integer keys as ids when all of them are
  const intKeys = ds.images.every((im) => /^\d+$/.test(im.key) && Number(im.key) <= Number.MAX_SAFE_INTEGER);
  const keyToId = new Map<string, number>();
  ds.images.forEach((im, i) => keyToId.set(im.key, intKeys ? Number(im.key) : i + 1));
  if (!intKeys && ds.images.length) report.converted.push('image ids renumbered 1..N (source keys were not all integers)');

  // file_name is relative to images/ (one file) or images/<split>/ (per split), as CVAT and Datumaro write it
  const names = new Map<string, UniqueNames>();
  const images: { id: number; file_name: string; width: number; height: number; split: Split; tags?: string[] }[] = [];
  let missing = 0;
  for (const im of ds.images) {
    const split = im.split ?? 'train';
    const folder = isJson ? 'images' : path.posix.join('images', split);
    if (!names.has(folder)) names.set(folder, new UniqueNames());
    const name = names.get(folder)!.take(outputName(im, false));
    const placed = await placeImage(im, path.join(outDir, folder, name), opts.images);
    if (!placed) missing++;
    else if (opts.images !== 'none') report.files.push(path.posix.join(folder, name));
    images.push({ id: keyToId.get(im.key)!, file_name: name, width: im.width, height: im.height, split, ...(im.tags?.length ? { tags: im.tags } : {}) });
  }
  if (missing) report.dropped.push(`${plural(missing, 'image file')} missing on disk (listed in the JSON without a file)`);

  // categories: keep source ids when unique; others get ids after the largest
  const used = new Set<number>();
  const classIds = new Map<string, number>();
  for (const c of ds.classes) {
    if (c.sourceId !== undefined && Number.isInteger(c.sourceId) && c.sourceId >= 0 && !used.has(c.sourceId)) {
      classIds.set(c.name, c.sourceId);
      used.add(c.sourceId);
    }
  }
  let next = maxOf(used) + 1;
  let renumbered = 0;
  for (const c of ds.classes) {
    if (!classIds.has(c.name)) {
      classIds.set(c.name, next++);
      renumbered++;
    }
  }
  if (renumbered && used.size) report.converted.push(`${plural(renumbered, 'category', 'categories')} without a usable source id got new ids`);
  const categories = ds.classes.map((c) => ({ id: classIds.get(c.name)!, name: c.name }));

  // annotations
  const annIdsTaken = new Set<number>();
  for (const a of ds.annotations) {
    if (typeof a.sourceId === 'number' && Number.isInteger(a.sourceId) && a.sourceId > 0) annIdsTaken.add(a.sourceId);
  }
  const annIdsGiven = new Set<number>();
  let nextAnn = maxOf(annIdsTaken) + 1;
  const dims = new Map(ds.images.map((im) => [im.key, im]));
  const annotations: Record<string, unknown>[] = [];
  const annSplit: Split[] = [];
  let shoelace = 0;
  // CVAT writes `attributes` ({occluded, <name>: value}) on every annotation; so do we once any shape has some
  const withAttributes = ds.annotations.some((a) => a.flags || a.attributes);
  for (const a of ds.annotations) {
    const im = dims.get(a.imageKey);
    const catId = classIds.get(a.className);
    if (!im || catId === undefined) {
      report.dropped.push(`annotation ${a.sourceId ?? ''} refers to a missing image or class`.replace('  ', ' '));
      continue;
    }
    let id: number;
    if (typeof a.sourceId === 'number' && Number.isInteger(a.sourceId) && a.sourceId > 0 && !annIdsGiven.has(a.sourceId)) id = a.sourceId;
    else id = nextAnn++;
    annIdsGiven.add(id);
    const g = a.geometry;
    let area: number;
    let bbox: number[];
    if (g.kind === 'mask') {
      const raw = decompress(g.rle); // decode once for both
      area = rleArea(raw);
      bbox = toBbox(raw);
    } else if (g.kind === 'polygon') {
      bbox = ringsBbox(g.rings);
      if (im.width > 0 && im.height > 0) area = polygonsArea(g.rings, im.height, im.width);
      else {
        area = g.rings.reduce((s, r) => s + Math.abs(ringArea(r)), 0);
        shoelace++;
      }
    } else {
      area = g.w * g.h;
      bbox = [g.x, g.y, g.w, g.h];
    }
    const ann: Record<string, unknown> = {
      id,
      image_id: keyToId.get(a.imageKey),
      category_id: catId,
      segmentation: g.kind === 'polygon' ? g.rings : g.kind === 'mask' ? { size: g.rle.size, counts: g.rle.counts } : [],
      area,
      bbox,
      iscrowd: a.iscrowd ? 1 : 0,
    };
    if (a.score !== undefined) ann.score = a.score;
    if (withAttributes) {
      ann.attributes = {
        occluded: !!a.flags?.occluded,
        ...(a.flags?.truncated ? { truncated: true } : {}),
        ...(a.flags?.difficult ? { difficult: true } : {}),
        ...a.attributes,
      };
    }
    annotations.push(ann);
    annSplit.push(im.split ?? 'train');
  }
  if (shoelace) report.converted.push(`${plural(shoelace, 'polygon')} on images of unknown size: area is the polygon area, not the pixel count`);

  // info and licenses are optional in COCO, but pycocotools' loadRes copies them and fails without them
  const info = { description: 'exported by HST Studio', date_created: new Date().toISOString() };
  const strip = (list: typeof images) => list.map(({ split: _s, ...im }) => im);
  if (isJson) {
    await writeFile(path.resolve(out), JSON.stringify({ info, licenses: [], images: strip(images), annotations, categories }));
    report.files.unshift(path.relative(outDir, path.resolve(out)).split(path.sep).join('/'));
    return report;
  }
  const present = SPLIT_ORDER.filter((s) => images.some((im) => im.split === s));
  const written: string[] = [];
  for (const split of present.length ? present : (['train'] as Split[])) {
    const rel = `annotations/instances_${split}.json`;
    const json = {
      info: { ...info, subset: split },
      licenses: [],
      images: strip(images.filter((im) => im.split === split)),
      annotations: annotations.filter((_, i) => annSplit[i] === split),
      categories,
    };
    await mkdir(path.join(outDir, 'annotations'), { recursive: true });
    await writeFile(path.join(outDir, rel), JSON.stringify(json));
    written.push(rel);
  }
  report.files.unshift(...written);
  return report;
}

/** Max of a set without spreading it into arguments (200k ids would overflow the call stack). */
function maxOf(xs: Iterable<number>): number {
  let m = 0;
  for (const x of xs) if (x > m) m = x;
  return m;
}
