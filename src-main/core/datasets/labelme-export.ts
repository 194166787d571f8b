// Neutral Dataset → LabelMe: one JSON beside each image copy. Boxes become rectangles, each polygon ring a polygon
// shape (rings of one object share a group_id), masks LabelMe "mask" shapes (a PNG of the mask's bounding box),
// so masks round-trip bit-exactly.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { decodeMask, toBbox } from '../geometry/rle';
import { type ExportOptions, type ExportReport, UniqueNames, outputName, placeImage, plural, selectSplits } from './export-common';
import type { Dataset } from './types';

const LABELME_VERSION = '5.5.0';

export async function exportLabelme(input: Dataset, outDir: string, opts: ExportOptions = {}): Promise<ExportReport> {
  const ds = selectSplits(input, opts.splits);
  const out = path.resolve(outDir);
  await mkdir(out, { recursive: true });
  const report: ExportReport = { files: [], converted: [], dropped: [] };
  const byImage = new Map<string, typeof ds.annotations>();
  for (const a of ds.annotations) {
    const l = byImage.get(a.imageKey);
    if (l) l.push(a);
    else byImage.set(a.imageKey, [a]);
  }
  const names = new UniqueNames();
  const n = { scores: 0, emptyMask: 0, missing: 0, groups: 0 };
  let group = 0;
  for (const img of ds.images) {
    // the image and its JSON share a stem, so reserve both names together
    let name = names.take(outputName(img, true));
    const stem = name.slice(0, name.length - path.extname(name).length);
    name = `${stem}${path.extname(name)}`;
    names.take(`${stem}.json`);
    if (await placeImage(img, path.join(out, name), opts.images)) {
      if (opts.images !== 'none') report.files.push(name);
    } else n.missing++;
    const shapes: Record<string, unknown>[] = [];
    for (const a of byImage.get(img.key) ?? []) {
      if (a.score !== undefined) n.scores++;
      // labelme's shape flags are checkboxes: our flags and boolean attributes; other values in `attributes`
      const flags: Record<string, boolean> = {};
      const other: Record<string, string | number> = {};
      for (const f of ['occluded', 'truncated', 'difficult'] as const) if (a.flags?.[f]) flags[f] = true;
      if (a.iscrowd) flags.crowd = true;
      for (const [k, v] of Object.entries(a.attributes ?? {})) {
        if (typeof v === 'boolean') flags[k] = v;
        else other[k] = v;
      }
      const base = {
        label: a.className, description: '', flags, mask: null as string | null, group_id: null as number | null,
        ...(Object.keys(other).length ? { attributes: other } : {}),
      };
      const g = a.geometry;
      if (g.kind === 'box') {
        shapes.push({ ...base, shape_type: 'rectangle', points: [[g.x, g.y], [g.x + g.w, g.y + g.h]] });
      } else if (g.kind === 'polygon') {
        const gid = g.rings.length > 1 ? ++group : null;
        if (gid !== null) n.groups++;
        for (const ring of g.rings) {
          const points: number[][] = [];
          for (let i = 0; i + 1 < ring.length; i += 2) points.push([ring[i], ring[i + 1]]);
          shapes.push({ ...base, group_id: gid, shape_type: 'polygon', points });
        }
      } else {
        const w = g.rle.size[1];
        const [bx, by, bw, bh] = toBbox(g.rle);
        if (bw === 0 || bh === 0) {
          n.emptyMask++;
          continue;
        }
        const full = decodeMask(g.rle);
        const crop = Buffer.alloc(bw * bh);
        for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) crop[y * bw + x] = full[(by + y) * w + bx + x] ? 255 : 0;
        const png = await sharp(crop, { raw: { width: bw, height: bh, channels: 1 } }).png().toBuffer();
        shapes.push({ ...base, shape_type: 'mask', points: [[bx, by], [bx + bw - 1, by + bh - 1]], mask: png.toString('base64') });
      }
    }
    const json = { version: LABELME_VERSION, flags: Object.fromEntries((img.tags ?? []).map((t) => [t, true])), shapes, imagePath: name, imageData: null, imageHeight: img.height, imageWidth: img.width };
    await writeFile(path.join(out, `${stem}.json`), JSON.stringify(json, null, 2));
    report.files.push(`${stem}.json`);
  }
  if (n.groups) report.converted.push(`${plural(n.groups, 'multi-part polygon')} written as polygon shapes sharing a group_id`);
  if (n.scores) report.dropped.push(`scores of ${plural(n.scores, 'annotation')}`);
  if (n.emptyMask) report.dropped.push(plural(n.emptyMask, 'empty mask'));
  if (n.missing) report.dropped.push(`${plural(n.missing, 'image file')} missing on disk`);
  return report;
}
