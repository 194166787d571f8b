// Pascal VOC → neutral Dataset: XML files (boxes) in Annotations/ or anywhere below the folder (labelImg saves
// them beside the images), ImageSets/Main/{train,val,test}.txt (splits; listed images without XML come in
// unlabelled) and SegmentationObject/*.png (instance k = the k-th <object>, as in VOC) which turn those objects
// into masks; images with only segmentation PNGs (no XML) come in as masks, classes from SegmentationClass.
// Images are found by <filename>: JPEGImages/, beside the XML, in sibling folders, anywhere below the folder.
// VOC boxes are 1-based inclusive pixel indices: xmin=1,xmax=10 covers pixels 0..9, i.e. x=0, w=10.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import sharp from 'sharp';
import { z } from 'zod';
import type { Geometry, Split } from '../../contract/schemas';
import { encodeMask } from '../geometry/rle';
import { splitAttributes } from './attributes';
import { exists, isImageName, listImageFiles } from './image-files';
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
    path: z.union([z.string(), z.number()]).transform(String).optional(),
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
  const st = await stat(root).catch(() => null);
  if (!st) throw new Error(`${p}: no such file or folder`);
  if (!st.isDirectory()) throw new Error(`${p}: give the VOC folder (the one holding Annotations/, or the XML files and images), not a file`);
  const segDir = path.join(root, 'SegmentationObject');
  const classDir = path.join(root, 'SegmentationClass');
  const xmlFiles = await listXml(root);
  const segStems = await pngStems(segDir);
  const classStems = await pngStems(classDir);
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join('/');
  const issues = new IssueList();
  const splits = await readSplits(root);
  if (xmlFiles.length === 0 && segStems.size === 0 && classStems.size === 0) {
    throw new Error(`${p}: no VOC XML files (looked in Annotations/ and below the folder) and no SegmentationClass/ or SegmentationObject/ PNGs: not a Pascal VOC dataset`);
  }
  const finder = await imageFinder(root);

  const images: DatasetImage[] = [];
  const classes: DatasetClass[] = [];
  const classSet = new Set<string>();
  const annotations: DatasetAnnotation[] = [];
  const addClass = (name: string) => {
    if (classSet.has(name)) return;
    classSet.add(name);
    classes.push({ name });
  };
  const covered = new Set<string>();
  let foreignPaths = 0;
  let partsOrActions = 0;
  let firstForeign = '';

  for (const xmlAbs of xmlFiles) {
    const file = rel(xmlAbs);
    const stem = path.basename(xmlAbs).slice(0, -4);
    const key = file.replace(/^Annotations\//, '').slice(0, -4);
    const text = await readFile(xmlAbs, 'utf8');
    const valid = XMLValidator.validate(text);
    if (valid !== true) {
      const e = xmlError(text, valid.err);
      issues.error(file, e.record, e.message);
      continue;
    }
    const parsedXml = parser.parse(text) as { annotation?: unknown };
    if (!parsedXml || typeof parsedXml !== 'object' || !('annotation' in parsedXml)) {
      issues.warn(file, undefined, 'not a VOC annotation (no <annotation> element); skipped');
      continue;
    }
    const r = VocXml.safeParse(parsedXml);
    if (!r.success) {
      issues.error(file, undefined, formatZodIssues(r.error.issues));
      continue;
    }
    const a = r.data.annotation;
    if (a.path && (path.isAbsolute(a.path) || /^[A-Za-z]:[\\/]/.test(a.path)) && !isInsideRoot(root, a.path)) {
      // labelImg writes the absolute path on the labeller's machine: meaningless here
      foreignPaths++;
      firstForeign ||= a.path;
    }
    const fname = a.filename ?? `${stem}.jpg`;
    const unsafe = resolveInside(root, fname);
    if (!unsafe.ok && !path.isAbsolute(fname.replace(/\\/g, '/')) && !/^[A-Za-z]:/.test(fname)) {
      issues.error(file, 'filename', unsafe.reason);
      continue;
    }
    const found = await finder.find(path.dirname(xmlAbs), fname, stem);
    if (!found) issues.warn(file, 'filename', `image '${fname}' not found (looked in JPEGImages/, beside the XML, in sibling folders and below ${p})`);
    const img: DatasetImage = {
      key,
      fileName: found ? rel(found) : fname,
      absPath: found,
      width: a.size ? Math.round(a.size.width) : 0,
      height: a.size ? Math.round(a.size.height) : 0,
    };
    const split = splits.get(stem);
    if (split) img.split = split;
    images.push(img);
    covered.add(stem);

    const objects: { name: string; geometry: Geometry; index: number; extra: Pick<DatasetAnnotation, 'flags' | 'attributes'> }[] = [];
    (a.object ?? []).forEach((raw, i) => {
      const rec = `object[${i}]`;
      if (raw && typeof raw === 'object' && ('part' in raw || 'actions' in raw)) partsOrActions++;
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
      addClass(o.name);
      annotations.push({ imageKey: key, className: o.name, geometry: o.geometry, sourceId: `${stem}#${o.index}`, ...o.extra });
    }
  }

  // segmentation PNGs without an XML: masks, their classes from SegmentationClass (and labelmap.txt if present)
  const segOnly = [...new Set([...segStems, ...classStems])].filter((s) => !covered.has(s)).sort();
  if (segOnly.length) {
    const labelmap = await readLabelmap(root);
    let n = 0;
    for (const stem of segOnly) {
      const found = await finder.find(path.join(root, 'JPEGImages'), `${stem}.jpg`, stem);
      const r = await segmentationObjects(root, stem, segStems.has(stem), classStems.has(stem), labelmap);
      if ('error' in r) {
        issues.warn(r.file, undefined, r.error);
        continue;
      }
      if (!found) issues.warn(`${segStems.has(stem) ? 'SegmentationObject' : 'SegmentationClass'}/${stem}.png`, undefined, `no image ${stem}.* in JPEGImages/ or below the folder`);
      const img: DatasetImage = { key: stem, fileName: found ? rel(found) : `JPEGImages/${stem}.jpg`, absPath: found, width: r.width, height: r.height };
      const split = splits.get(stem);
      if (split) img.split = split;
      images.push(img);
      covered.add(stem);
      r.objects.forEach((o, i) => {
        addClass(o.name);
        annotations.push({ imageKey: stem, className: o.name, geometry: o.geometry, sourceId: `${stem}#seg${i}` });
        n++;
      });
    }
    issues.warn('SegmentationObject', undefined, `${segOnly.length} image(s) have segmentation PNGs but no XML: imported with ${n} mask(s)` +
      (classStems.size ? ', classes from SegmentationClass/' + (labelmap ? ' and labelmap.txt' : ' (VOC class order)') : ', all of class \'object\' (no SegmentationClass/)'));
  }

  // images listed in ImageSets with neither XML nor masks: imported without labels
  const unlabelled = [...splits.keys()].filter((s) => !covered.has(s));
  let listedMissing = 0;
  let listedAdded = 0;
  for (const stem of unlabelled) {
    const found = await finder.find(path.join(root, 'JPEGImages'), `${stem}.jpg`, stem);
    if (!found) {
      listedMissing++;
      continue;
    }
    images.push({ key: stem, fileName: rel(found), absPath: found, width: 0, height: 0, split: splits.get(stem) });
    listedAdded++;
  }
  if (listedAdded) issues.warn('ImageSets/Main', undefined, `${listedAdded} image(s) listed in ImageSets have no XML: imported without labels`);
  if (listedMissing) issues.warn('ImageSets/Main', undefined, `${listedMissing} image(s) listed in ImageSets have neither an XML nor an image file; skipped`);
  if (foreignPaths) issues.warn('*.xml', 'path', `${foreignPaths} XML file(s) give an absolute <path> from another computer (e.g. ${firstForeign}); ignored, images were found by <filename>`);
  if (partsOrActions) issues.warn('*.xml', undefined, `${partsOrActions} object(s) have <part> or <actions> (person layout / action classification): those are not imported, the objects are`);
  return { images, classes, annotations, issues: issues.items };
}

function isInsideRoot(root: string, p: string): boolean {
  const r = resolveInside(root, p);
  return r.ok;
}

/** XML files below the folder (Annotations/ first in VOC; labelImg keeps them beside the images). */
async function listXml(root: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    if (!e.isFile() || !e.name.toLowerCase().endsWith('.xml')) continue;
    const full = path.join(e.parentPath ?? root, e.name);
    const relParts = path.relative(root, full).split(path.sep);
    if (relParts.some((part) => part.startsWith('.'))) continue;
    out.push(full);
  }
  return out.sort();
}

async function pngStems(dir: string): Promise<Set<string>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return new Set(names.filter((n) => n.toLowerCase().endsWith('.png')).map((n) => n.slice(0, -4)));
}

/**
 * Finds the image an XML names: JPEGImages/<name>, beside the XML, in the XML folder's siblings
 * (labelImg: Annotations/ beside images/), else any image below the root with that base name (or stem).
 */
async function imageFinder(root: string): Promise<{ find(xmlDir: string, name: string, stem: string): Promise<string | null> }> {
  let byBase: Map<string, string[]> | null = null;
  const index = async () => {
    if (byBase) return byBase;
    byBase = new Map();
    for (const f of await listImageFiles(root)) {
      for (const k of [path.basename(f).toLowerCase(), `stem:${path.basename(f, path.extname(f)).toLowerCase()}`]) {
        byBase.set(k, [...(byBase.get(k) ?? []), f]);
      }
    }
    return byBase;
  };
  return {
    async find(xmlDir, name, stem) {
      const base = path.basename(name.replace(/\\/g, '/'));
      const dirs = [path.join(root, 'JPEGImages'), xmlDir];
      const parent = path.dirname(xmlDir);
      if (isInsideDir(root, parent)) {
        for (const e of await readdir(parent, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) dirs.push(path.join(parent, e.name));
      }
      for (const d of dirs) {
        const c = path.join(d, base);
        if (isImageName(c) && (await exists(c))) return c;
      }
      const idx = await index();
      const hits = idx.get(base.toLowerCase()) ?? idx.get(`stem:${(isImageName(base) ? path.basename(base, path.extname(base)) : base).toLowerCase()}`) ?? idx.get(`stem:${stem.toLowerCase()}`);
      if (!hits?.length) return null;
      // nearest to the XML first
      return [...hits].sort((a, b) => path.relative(xmlDir, a).length - path.relative(xmlDir, b).length)[0];
    },
  };
}

function isInsideDir(root: string, p: string): boolean {
  const r = path.relative(root, p);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
}

/** A validator error in words: a file cut short says so, instead of "line 1, column 1: Invalid '[…]' found". */
function xmlError(text: string, err: { msg: string; line: number; col: number }): { record: string; message: string } {
  const unclosed = /^Invalid '\[(.*)\]' found\.?$/s.exec(err.msg);
  if (unclosed) {
    const tags = [...unclosed[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    const lines = text.split('\n');
    const where = `line ${lines.length}, column ${lines[lines.length - 1].length + 1}`;
    return { record: where, message: `the XML ends before ${tags.map((t) => `<${t}>`).join(' > ') || 'its elements'} ${tags.length > 1 ? 'are' : 'is'} closed: the file is truncated` };
  }
  return { record: `line ${err.line}, column ${err.col}`, message: `invalid XML: ${err.msg}` };
}

/** Pascal VOC's 20 classes, in the order of the SegmentationClass indices (0 = background). */
const VOC_CLASSES = ['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor'];

/** CVAT / Datumaro write labelmap.txt: "# label:color_rgb:parts:actions", then "name:r,g,b::" per class. */
async function readLabelmap(root: string): Promise<Map<number, string> | null> {
  let text: string;
  try {
    text = await readFile(path.join(root, 'labelmap.txt'), 'utf8');
  } catch {
    return null;
  }
  const out = new Map<number, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([^#:][^:]*):(\d+),(\d+),(\d+)/.exec(line.trim());
    if (m) out.set((Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4]), m[1]);
  }
  return out.size ? out : null;
}

type SegObjects = { width: number; height: number; objects: { name: string; geometry: Geometry }[] } | { error: string; file: string };

/** One image's masks from SegmentationObject (instances) and/or SegmentationClass (their classes). */
async function segmentationObjects(root: string, stem: string, hasObj: boolean, hasCls: boolean, labelmap: Map<number, string> | null): Promise<SegObjects> {
  const clsFile = `SegmentationClass/${stem}.png`;
  let classOf: ((p: number) => string | null) | null = null;
  let W = 0;
  let H = 0;
  if (hasCls) {
    const c = await readClassPixels(path.join(root, clsFile), labelmap);
    if ('error' in c) return { error: c.error, file: clsFile };
    classOf = c.classOf;
    W = c.width;
    H = c.height;
  }
  const objects: { name: string; geometry: Geometry }[] = [];
  if (hasObj) {
    const objFile = `SegmentationObject/${stem}.png`;
    const masks = await readInstanceMasks(path.join(root, objFile));
    if ('error' in masks) return { error: masks.error, file: objFile };
    if (classOf && (masks.width !== W || masks.height !== H)) return { error: `is ${masks.width}x${masks.height} but ${clsFile} is ${W}x${H}`, file: objFile };
    W = masks.width;
    H = masks.height;
    for (const [, m] of [...masks.byIndex].sort((a, b) => a[0] - b[0])) {
      // the instance's class: the most common class under its pixels
      const votes = new Map<string, number>();
      if (classOf) for (let p = 0; p < m.length; p++) if (m[p]) { const n = classOf(p); if (n) votes.set(n, (votes.get(n) ?? 0) + 1); }
      const name = [...votes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'object';
      objects.push({ name, geometry: { kind: 'mask', rle: encodeMask(m, H, W) } });
    }
  } else if (classOf) {
    // semantic only: one mask per class present
    const byClass = new Map<string, Uint8Array>();
    for (let p = 0; p < W * H; p++) {
      const n = classOf(p);
      if (!n) continue;
      let m = byClass.get(n);
      if (!m) byClass.set(n, (m = new Uint8Array(W * H)));
      m[p] = 1;
    }
    for (const [name, m] of byClass) objects.push({ name, geometry: { kind: 'mask', rle: encodeMask(m, H, W) } });
  }
  return { width: W, height: H, objects };
}

/** Class name per pixel of a SegmentationClass PNG: labelmap colours, else VOC palette indices → VOC names. */
async function readClassPixels(file: string, labelmap: Map<number, string> | null): Promise<{ width: number; height: number; classOf: (p: number) => string | null } | { error: string }> {
  let data: Buffer;
  let info: sharp.OutputInfo;
  try {
    ({ data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true }));
  } catch (err) {
    return { error: `cannot read the PNG (${(err as Error).message})` };
  }
  const lookup = new Map<number, number>();
  vocColormap().forEach(([r, g, b], i) => lookup.set((r << 16) | (g << 8) | b, i));
  const { width, height, channels } = info;
  const names = (idx: number) => (idx === 0 || idx === 255 ? null : VOC_CLASSES[idx] ?? `class${idx}`);
  return {
    width,
    height,
    classOf: (p) => {
      if (channels < 3) return names(data[p * channels]);
      const c = (data[p * channels] << 16) | (data[p * channels + 1] << 8) | data[p * channels + 2];
      if (labelmap) {
        const n = labelmap.get(c);
        return n && n !== 'background' ? n : null;
      }
      const idx = lookup.get(c);
      return idx === undefined ? null : names(idx);
    },
  };
}

/** Splits from ImageSets/Main (detection) and ImageSets/Segmentation (segmentation-only datasets); Main wins. */
async function readSplits(root: string): Promise<Map<string, Split>> {
  const out = new Map<string, Split>();
  for (const sub of ['Main', 'Segmentation']) {
    const dir = path.join(root, 'ImageSets', sub);
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
