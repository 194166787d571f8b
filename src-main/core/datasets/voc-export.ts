// Neutral Dataset → Pascal VOC: Annotations/<id>.xml (whole-pixel boxes), JPEGImages/, ImageSets/Main/<split>.txt,
// and SegmentationObject/<id>.png (palette PNG, index k = k-th object) for images with polygons or masks.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { XMLBuilder } from 'fast-xml-parser';
import type { Split } from '../../contract/schemas';
import { geometryBbox, geometryToRle } from '../geometry/iou';
import { decodeMask } from '../geometry/rle';
import { type ExportOptions, type ExportReport, UniqueNames, outputName, placeImage, plural, selectSplits } from './export-common';
import { imageSize } from './image-files';
import { encodePalettePng, vocColormap } from './png-palette';
import type { Dataset } from './types';

const builder = new XMLBuilder({ format: true, indentBy: '  ' });

export async function exportVoc(input: Dataset, outDir: string, opts: ExportOptions = {}): Promise<ExportReport> {
  const ds = selectSplits(input, opts.splits);
  const out = path.resolve(outDir);
  const report: ExportReport = { files: [], converted: [], dropped: [] };
  await mkdir(path.join(out, 'Annotations'), { recursive: true });
  const byImage = new Map<string, typeof ds.annotations>();
  for (const a of ds.annotations) {
    const l = byImage.get(a.imageKey);
    if (l) l.push(a);
    else byImage.set(a.imageKey, [a]);
  }
  const names = new UniqueNames();
  const splitIds = new Map<Split, string[]>();
  const palette = vocColormap();
  const n = { rounded: 0, shapes: 0, overlap: 0, tooMany: 0, crowd: 0, scores: 0, missing: 0, noSize: 0, badMask: 0, tags: 0 };

  for (const img of ds.images) {
    const name = names.take(outputName(img, true));
    const id = name.slice(0, name.length - path.extname(name).length);
    const imgRel = `JPEGImages/${name}`;
    if (await placeImage(img, path.join(out, imgRel), opts.images)) {
      if (opts.images !== 'none') report.files.push(imgRel);
    } else n.missing++;
    if (img.tags?.length) n.tags++;
    const split = img.split ?? 'train';
    splitIds.set(split, [...(splitIds.get(split) ?? []), id]);

    let W = img.width;
    let H = img.height;
    if (!(W > 0 && H > 0) && img.absPath) {
      const s = await imageSize(img.absPath);
      if (!('error' in s)) ({ width: W, height: H } = s);
    }
    const anns = byImage.get(img.key) ?? [];
    const objects: Record<string, unknown>[] = [];
    const needsSeg = anns.some((a) => a.geometry.kind !== 'box');
    const seg = needsSeg && W > 0 && H > 0 ? new Uint8Array(W * H) : null;
    if (needsSeg && !seg) n.noSize++;
    anns.forEach((a, k) => {
      const [x, y, w, h] = geometryBbox(a.geometry);
      // VOC: 1-based inclusive pixel indices
      const box = [x + 1, y + 1, x + w, y + h];
      const ints = box.map(Math.round);
      if (ints.some((v, i) => v !== box[i])) n.rounded++;
      if (a.iscrowd) n.crowd++;
      if (a.score !== undefined) n.scores++;
      const attrs = Object.entries(a.attributes ?? {});
      objects.push({
        name: a.className,
        pose: 'Unspecified',
        truncated: a.flags?.truncated ? 1 : 0,
        difficult: a.flags?.difficult ? 1 : 0,
        occluded: a.flags?.occluded ? 1 : 0,
        bndbox: { xmin: ints[0], ymin: ints[1], xmax: ints[2], ymax: ints[3] },
        // custom attributes as CVAT writes them in VOC
        ...(attrs.length ? { attributes: { attribute: attrs.map(([name, value]) => ({ name, value: String(value) })) } } : {}),
      });
      if (seg && a.geometry.kind !== 'box') {
        n.shapes++;
        if (k + 1 >= 255) {
          n.tooMany++;
          return;
        }
        let m: Uint8Array;
        try {
          m = decodeMask(geometryToRle(a.geometry, H, W));
        } catch {
          n.badMask++; // a mask of another size than its image
          return;
        }
        for (let p = 0; p < m.length; p++) {
          if (!m[p]) continue;
          if (seg[p]) n.overlap++;
          seg[p] = k + 1;
        }
      }
    });
    const xml = builder.build({
      annotation: {
        folder: 'JPEGImages',
        filename: name,
        size: { width: W, height: H, depth: 3 },
        segmented: seg ? 1 : 0,
        object: objects,
      },
    });
    await writeFile(path.join(out, 'Annotations', `${id}.xml`), xml);
    report.files.push(`Annotations/${id}.xml`);
    if (seg) {
      await mkdir(path.join(out, 'SegmentationObject'), { recursive: true });
      await writeFile(path.join(out, 'SegmentationObject', `${id}.png`), encodePalettePng(seg, W, H, palette));
      report.files.push(`SegmentationObject/${id}.png`);
    }
  }
  await mkdir(path.join(out, 'ImageSets', 'Main'), { recursive: true });
  for (const [s, ids] of splitIds) {
    await writeFile(path.join(out, 'ImageSets', 'Main', `${s}.txt`), `${ids.join('\n')}\n`);
    report.files.push(`ImageSets/Main/${s}.txt`);
  }
  if (n.shapes) report.converted.push(`${plural(n.shapes, 'polygon/mask', 'polygons/masks')} written as boxes in the XML and as instances in SegmentationObject PNGs`);
  if (n.rounded) report.converted.push(`${plural(n.rounded, 'box', 'boxes')} rounded to whole pixels (VOC coordinates are integers)`);
  if (n.overlap) report.dropped.push(`${plural(n.overlap, 'pixel')} where instances overlap (a VOC instance PNG holds one object per pixel; later objects win)`);
  if (n.tooMany) report.dropped.push(`${plural(n.tooMany, 'shape')} beyond the 254th object of an image (left out of the PNG, box kept)`);
  if (n.crowd) report.dropped.push(`crowd flag of ${plural(n.crowd, 'annotation')}`);
  if (n.scores) report.dropped.push(`scores of ${plural(n.scores, 'annotation')}`);
  if (n.tags) report.dropped.push(`image tags of ${plural(n.tags, 'image')} (VOC has no image-level labels)`);
  if (n.noSize) report.dropped.push(`shapes of ${plural(n.noSize, 'image')} of unknown size (boxes kept)`);
  if (n.badMask) report.dropped.push(`${plural(n.badMask, 'mask')} whose size differs from the image (left out of the PNG, box kept)`);
  if (n.missing) report.dropped.push(`${plural(n.missing, 'image file')} missing on disk`);
  report.dropped.push('SegmentationClass PNGs are not written (VOC class indices are fixed to the 20 VOC classes)');
  return report;
}
