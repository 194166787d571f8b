// Neutral Dataset → Ultralytics YOLO layout (data.yaml, images/<split>/, labels/<split>/). YOLO holds one box or
// one polygon per line, normalised, with no RLE, no crowd flag and no scores: what had to change is reported.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Split } from '../../contract/schemas';
import { bridgeRings, rleToPolygons } from '../geometry/rasterize';
import { type ExportOptions, type ExportReport, UniqueNames, outputName, placeImage, plural, selectSplits } from './export-common';
import { imageSize } from './image-files';
import type { Dataset, DatasetImage } from './types';

const DIGITS = 6;

export async function exportYolo(input: Dataset, outDir: string, opts: ExportOptions = {}): Promise<ExportReport> {
  const ds = selectSplits(input, opts.splits);
  const out = path.resolve(outDir);
  await mkdir(out, { recursive: true });
  const report: ExportReport = { files: [], converted: [], dropped: [] };

  // class indices: keep source ids when they already are 0..K-1
  const src = ds.classes.map((c) => c.sourceId);
  const keep = src.every((s) => s !== undefined) && new Set(src).size === src.length && src.every((s) => Number.isInteger(s) && s! >= 0 && s! < src.length);
  const index = new Map<string, number>(ds.classes.map((c, i) => [c.name, keep ? c.sourceId! : i]));
  if (!keep && src.some((s) => s !== undefined)) report.converted.push('class ids renumbered 0..K-1 in class order (YOLO needs contiguous indices)');

  const byImage = new Map<string, typeof ds.annotations>();
  for (const a of ds.annotations) {
    const list = byImage.get(a.imageKey);
    if (list) list.push(a);
    else byImage.set(a.imageKey, [a]);
  }

  const counts = { rle: 0, holes: 0, multi: 0, crowd: 0, scores: 0, emptyMask: 0, clamped: 0, noSize: 0, missing: 0, boxes: 0, segs: 0, attrs: 0, tags: 0 };
  const names = new UniqueNames();
  const usedSplits = new Set<Split>();
  for (const img of ds.images) {
    if (img.tags?.length) counts.tags++;
    const split = img.split ?? 'train';
    usedSplits.add(split);
    const name = names.take(`${split}/${outputName(img, true)}`).slice(split.length + 1);
    const imgRel = `images/${split}/${name}`;
    const labelRel = `labels/${split}/${name.slice(0, name.length - path.extname(name).length)}.txt`;
    if (await placeImage(img, path.join(out, imgRel), opts.images)) {
      if (opts.images !== 'none') report.files.push(imgRel);
    } else counts.missing++;

    const anns = byImage.get(img.key) ?? [];
    const { W, H } = await sizeOf(img);
    if (anns.length && !(W > 0 && H > 0)) {
      counts.noSize += anns.length;
      continue;
    }
    const lines: string[] = [];
    const norm = (v: number, d: number) => {
      const x = v / d;
      if (x < 0 || x > 1) counts.clamped++;
      return Math.min(1, Math.max(0, x)).toFixed(DIGITS);
    };
    for (const a of anns) {
      const cls = index.get(a.className);
      if (cls === undefined) continue;
      if (a.iscrowd) counts.crowd++;
      if (a.score !== undefined) counts.scores++;
      if (a.flags || a.attributes) counts.attrs++;
      const g = a.geometry;
      if (g.kind === 'box') {
        counts.boxes++;
        lines.push([cls, norm(g.x + g.w / 2, W), norm(g.y + g.h / 2, H), norm(g.w, W), norm(g.h, H)].join(' '));
        continue;
      }
      let rings: number[][];
      if (g.kind === 'mask') {
        counts.rle++;
        const p = rleToPolygons(g.rle);
        counts.holes += p.holesDropped;
        rings = p.rings;
        if (rings.length === 0) {
          counts.emptyMask++;
          continue;
        }
      } else rings = g.rings;
      if (rings.length > 1) counts.multi++;
      const ring = rings.length > 1 ? bridgeRings(rings) : rings[0];
      counts.segs++;
      const coords: string[] = [];
      for (let i = 0; i < ring.length; i += 2) coords.push(norm(ring[i], W), norm(ring[i + 1], H));
      lines.push(`${cls} ${coords.join(' ')}`);
    }
    await mkdir(path.dirname(path.join(out, labelRel)), { recursive: true });
    await writeFile(path.join(out, labelRel), lines.length ? `${lines.join('\n')}\n` : '');
    report.files.push(labelRel);
  }

  const entries: [string, string][] = [];
  for (const s of ['train', 'val', 'test'] as Split[]) if (usedSplits.has(s)) entries.push([s, `images/${s}`]);
  if (!usedSplits.has('val') && usedSplits.has('train')) {
    entries.push(['val', 'images/train']);
    report.converted.push("no images in split 'val': data.yaml's val points at images/train (Ultralytics requires a val entry)");
  }
  if (!usedSplits.has('train') && usedSplits.size) entries.unshift(['train', entries[0][1]]);
  // Written by hand with every string double-quoted: Ultralytics reads YAML 1.1 (PyYAML), where an unquoted
  // class named yes/no/on/off would turn into a boolean. JSON strings are valid YAML double-quoted scalars.
  const q = (v: string) => JSON.stringify(v);
  const lines = ['path: "."', ...entries.map(([k, v]) => `${k}: ${q(v)}`), `nc: ${ds.classes.length}`, 'names:'];
  for (const [n, i] of [...index.entries()].sort((a, b) => a[1] - b[1])) lines.push(`  ${i}: ${q(n)}`);
  await writeFile(path.join(out, 'data.yaml'), `${lines.join('\n')}\n`);
  report.files.unshift('data.yaml');

  if (counts.rle) report.converted.push(`${plural(counts.rle, 'RLE mask')} converted to polygons (YOLO has no RLE)`);
  if (counts.multi) report.converted.push(`${plural(counts.multi, 'multi-part outline')} joined into one polygon by zero-width bridges (YOLO has one polygon per line)`);
  if (counts.boxes && counts.segs) report.converted.push(`mixed labels: ${plural(counts.boxes, 'box', 'boxes')} and ${plural(counts.segs, 'polygon')} (Ultralytics segmentation training ignores box-only lines)`);
  if (counts.clamped) report.converted.push(`${plural(counts.clamped, 'coordinate')} outside the image clamped to [0, 1]`);
  if (counts.holes) report.dropped.push(`${plural(counts.holes, 'hole')} in masks (a YOLO polygon cannot have holes)`);
  if (counts.emptyMask) report.dropped.push(`${plural(counts.emptyMask, 'empty mask')}`);
  if (counts.crowd) report.dropped.push(`crowd flag of ${plural(counts.crowd, 'annotation')} (written as ordinary objects)`);
  if (counts.scores) report.dropped.push(`scores of ${plural(counts.scores, 'annotation')}`);
  if (counts.attrs) report.dropped.push(`flags and attributes of ${plural(counts.attrs, 'annotation')} (YOLO has none)`);
  if (counts.tags) report.dropped.push(`image tags of ${plural(counts.tags, 'image')} (YOLO has no image-level labels)`);
  if (counts.noSize) report.dropped.push(`${plural(counts.noSize, 'annotation')} on images of unknown size (cannot normalise)`);
  if (counts.missing) report.dropped.push(`${plural(counts.missing, 'image file')} missing on disk`);
  return report;
}

async function sizeOf(img: DatasetImage): Promise<{ W: number; H: number }> {
  if (img.width > 0 && img.height > 0) return { W: img.width, H: img.height };
  if (!img.absPath) return { W: 0, H: 0 };
  const s = await imageSize(img.absPath);
  return 'error' in s ? { W: 0, H: 0 } : { W: s.width, H: s.height };
}
