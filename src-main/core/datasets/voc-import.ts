// Pascal VOC → neutral Dataset: Annotations/*.xml (boxes), ImageSets/Main/{train,val,test}.txt (splits) and
// SegmentationObject/*.png (instance k = the k-th <object>, as in VOC) which turn those objects into masks.
// VOC boxes are 1-based inclusive pixel indices: xmin=1,xmax=10 covers pixels 0..9, i.e. x=0, w=10.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import sharp from 'sharp';
import { z } from 'zod';
import type { Geometry, Split } from '../../contract/schemas';
import { encodeMask } from '../geometry/rle';
import { splitAttributes } from './attributes';
import { exists } from './image-files';
import { IssueList, formatZodIssues } from './issues';
import { vocColormap } from './png-palette';
import { resolveInside } from './safe-path';
import type { Dataset, DatasetAnnotation, DatasetClass, DatasetImage } from './types';

const Num = z.union([z.string(), z.number()]).transform((v) => Number(v)).pipe(z.number().finite());
const Flag = z.union([z.string(), z.number()]).optional().transform((v) => v !== undefined && Number(v) === 1);

const VocObject = z.object({
  name: z.union([z.string().min(1), z.number()]).transform(String),
  difficult: Flag,
  truncated: Flag,
  occluded: Flag,
  // CVAT's VOC: <attributes><attribute><name>…</name><value>…</value></attribute>…</attributes>
  attributes: z
    .object({ attribute: z.array(z.object({ name: z.union([z.string(), z.number()]).transform(String), value: z.union([z.string(), z.number()]).optional() })).optional() })
    .or(z.literal(''))
    .optional(),
  bndbox: z.object({ xmin: Num, ymin: Num, xmax: Num, ymax: Num }),
});
const VocXml = z.object({
  annotation: z.object({
    filename: z.union([z.string(), z.number()]).transform(String).optional(),
    size: z.object({ width: Num, height: Num }).optional(),
    object: z.array(z.unknown()).optional(),
  }),
});

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (_name, jpath) => String(jpath) === 'annotation.object' || String(jpath) === 'annotation.object.attributes.attribute',
});

/** An attribute value as text in XML: CVAT writes checkboxes as true/false and numbers as digits. */
function xmlAttributeValue(v: string | number | undefined): string | number | boolean {
  const t = String(v ?? '').trim();
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+(\.\d+)?$/.test(t) && t.length < 16) return Number(t);
  return String(v ?? '');
}

export async function importVoc(p: string): Promise<Dataset> {
  const root = path.resolve(p);
  const annDir = (await exists(path.join(root, 'Annotations'))) ? path.join(root, 'Annotations') : root;
  const imgDir = (await exists(path.join(root, 'JPEGImages'))) ? path.join(root, 'JPEGImages') : annDir;
  const segDir = path.join(root, 'SegmentationObject');
  const hasSeg = await exists(segDir);
  const xmls = (await readdir(annDir)).filter((n) => n.toLowerCase().endsWith('.xml')).sort();
  if (xmls.length === 0) throw new Error(`${p}: no Annotations/*.xml: not a Pascal VOC dataset`);
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
  const issues = new IssueList();
  const splits = await readSplits(root);

  const images: DatasetImage[] = [];
  const classes: DatasetClass[] = [];
  const classSet = new Set<string>();
  const annotations: DatasetAnnotation[] = [];
  const segStems = new Set(hasSeg ? (await readdir(segDir)).filter((n) => n.toLowerCase().endsWith('.png')).map((n) => n.slice(0, -4)) : []);

  for (const x of xmls) {
    const file = rel(path.join(annDir, x));
    const stem = x.slice(0, -4);
    const text = await readFile(path.join(annDir, x), 'utf8');
    const valid = XMLValidator.validate(text);
    if (valid !== true) {
      issues.error(file, `line ${valid.err.line}, column ${valid.err.col}`, `invalid XML: ${valid.err.msg}`);
      continue;
    }
    const r = VocXml.safeParse(parser.parse(text));
    if (!r.success) {
      issues.error(file, undefined, formatZodIssues(r.error.issues));
      continue;
    }
    const a = r.data.annotation;
    const fname = a.filename ?? `${stem}.jpg`;
    const resolved = resolveInside(imgDir, fname);
    if (!resolved.ok) {
      issues.error(file, 'filename', resolved.reason);
      continue;
    }
    const found = await exists(resolved.abs);
    if (!found) issues.warn(file, 'filename', `image file not found: ${resolved.abs}`);
    const img: DatasetImage = {
      key: stem,
      fileName: rel(resolved.abs),
      absPath: found ? resolved.abs : null,
      width: a.size ? Math.round(a.size.width) : 0,
      height: a.size ? Math.round(a.size.height) : 0,
    };
    const split = splits.get(stem);
    if (split) img.split = split;
    images.push(img);

    const objects: { name: string; geometry: Geometry; index: number; extra: Pick<DatasetAnnotation, 'flags' | 'attributes'> }[] = [];
    (a.object ?? []).forEach((raw, i) => {
      const rec = `object[${i}]`;
      const o = VocObject.safeParse(raw);
      if (!o.success) return issues.error(file, rec, formatZodIssues(o.error.issues));
      const { xmin, ymin, xmax, ymax } = o.data.bndbox;
      if (xmax < xmin || ymax < ymin) {
        return issues.error(file, rec, `bndbox has a negative size (xmin ${xmin} > xmax ${xmax} or ymin ${ymin} > ymax ${ymax})`);
      }
      const named: Record<string, unknown> = {};
      for (const at of (o.data.attributes || undefined)?.attribute ?? []) named[at.name] = xmlAttributeValue(at.value);
      const extra = splitAttributes(named, (name, why) => issues.warn(file, `${rec} attribute '${name.slice(0, 80)}'`, `not kept: ${why}`));
      const flags = { ...extra.flags, ...(o.data.difficult ? { difficult: true } : {}), ...(o.data.truncated ? { truncated: true } : {}), ...(o.data.occluded ? { occluded: true } : {}) };
      if (Object.keys(flags).length) extra.flags = flags;
      objects.push({ name: o.data.name, geometry: { kind: 'box', x: xmin - 1, y: ymin - 1, w: xmax - xmin + 1, h: ymax - ymin + 1 }, index: i, extra });
    });

    if (segStems.has(stem) && objects.length) {
      const segFile = `SegmentationObject/${stem}.png`;
      const masks = await readInstanceMasks(path.join(segDir, `${stem}.png`));
      if ('error' in masks) issues.warn(segFile, undefined, masks.error);
      else {
        if (img.width && img.height && (masks.width !== img.width || masks.height !== img.height)) {
          issues.error(segFile, undefined, `mask is ${masks.width}x${masks.height} but ${file} says ${img.width}x${img.height}`);
        } else {
          if (masks.unknownColours) issues.warn(segFile, undefined, `${masks.unknownColours} pixels have colours outside the VOC colour map; ignored`);
          for (const [k, m] of masks.byIndex) {
            const obj = objects.find((o) => o.index === k - 1);
            if (!obj) issues.warn(segFile, `instance ${k}`, `has pixels but ${file} has no object ${k}; ignored`);
            else obj.geometry = { kind: 'mask', rle: encodeMask(m, masks.height, masks.width) };
          }
          if (!img.width) {
            img.width = masks.width;
            img.height = masks.height;
          }
        }
      }
    }
    for (const o of objects) {
      if (!classSet.has(o.name)) {
        classSet.add(o.name);
        classes.push({ name: o.name });
      }
      annotations.push({ imageKey: stem, className: o.name, geometry: o.geometry, sourceId: `${stem}#${o.index}`, ...o.extra });
    }
  }
  return { images, classes, annotations, issues: issues.items };
}

async function readSplits(root: string): Promise<Map<string, Split>> {
  const out = new Map<string, Split>();
  const dir = path.join(root, 'ImageSets', 'Main');
  for (const s of ['train', 'val', 'test'] as Split[]) {
    let text: string;
    try {
      text = await readFile(path.join(dir, `${s}.txt`), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split(/\r?\n/)) {
      // "id" or, in class-specific lists, "id  1"; ids may contain spaces, so only a trailing flag is cut
      const id = line.trim().replace(/\s+(-1|0|1)$/, '');
      if (id && !out.has(id)) out.set(id, s);
    }
  }
  return out;
}

type InstanceMasks = { width: number; height: number; byIndex: Map<number, Uint8Array>; unknownColours: number } | { error: string };

/** Decode an instance PNG: palette/RGB colours via the VOC colour map, or grey values as indices. 0 and 255 are background/void. */
export async function readInstanceMasks(file: string): Promise<InstanceMasks> {
  let data: Buffer;
  let info: sharp.OutputInfo;
  try {
    ({ data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true }));
  } catch (err) {
    return { error: `cannot read the PNG (${(err as Error).message})` };
  }
  const { width, height, channels } = info;
  const lookup = new Map<number, number>();
  vocColormap().forEach(([r, g, b], i) => lookup.set((r << 16) | (g << 8) | b, i));
  const byIndex = new Map<number, Uint8Array>();
  let unknownColours = 0;
  for (let p = 0; p < width * height; p++) {
    let idx: number;
    if (channels < 3) idx = data[p * channels];
    else {
      const c = (data[p * channels] << 16) | (data[p * channels + 1] << 8) | data[p * channels + 2];
      const v = lookup.get(c);
      if (v === undefined) {
        unknownColours++;
        continue;
      }
      idx = v;
    }
    if (idx === 0 || idx === 255) continue;
    let m = byIndex.get(idx);
    if (!m) byIndex.set(idx, (m = new Uint8Array(width * height)));
    m[p] = 1;
  }
  return { width, height, byIndex, unknownColours };
}
