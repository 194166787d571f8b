// COCO instances JSON → neutral Dataset. Every record is validated on its own (zod), so one bad record names
// itself instead of hiding the rest; errors fail the whole import, warnings let the rest through.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { jsonKind } from './detect-format';
import type { Geometry, Split } from '../../contract/schemas';
import { checkCounts, countsFromString, fromUncompressed } from '../geometry/rle';
import { splitAttributes } from './attributes';
import { exists } from './image-files';
import { IssueList, formatZodIssues } from './issues';
import { readJsonFile } from './read-json';
import { resolveInside } from './safe-path';
import type { Dataset, DatasetAnnotation, DatasetClass, DatasetImage } from './types';

const Id = z.union([z.number().int(), z.string().min(1)]);

const CocoRoot = z.object({
  images: z.array(z.unknown()),
  annotations: z.array(z.unknown()).optional(),
  categories: z.array(z.unknown()).optional(),
});

// Fields pycocotools never reads may be null (labelme2coco writes `supercategory: null`, some tools `area: null`)
const CocoImage = z.object({
  id: Id,
  file_name: z.string().min(1),
  width: z.number().int().nonnegative().nullable().optional(),
  height: z.number().int().nonnegative().nullable().optional(),
  /** image-level tags (this studio's exports; not a COCO field) */
  tags: z.array(z.string()).optional(),
});

const CocoCategory = z.object({
  id: z.number().int(),
  name: z.string().min(1),
  supercategory: z.string().nullable().optional(),
});

const CocoRle = z.object({
  size: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  counts: z.union([z.string(), z.array(z.number().int())]),
});

const CocoAnnotation = z.object({
  id: Id.optional(),
  image_id: Id,
  category_id: z.number().int(),
  bbox: z.array(z.number()).length(4).nullable().optional(),
  segmentation: z.union([z.array(z.array(z.number())), CocoRle]).nullable().optional(),
  iscrowd: z.union([z.literal(0), z.literal(1), z.boolean()]).optional(),
  area: z.number().nullable().optional(),
  score: z.number().optional(),
  /** as CVAT writes them: {occluded: bool, rotation: 0.0, <name>: value} */
  attributes: z.record(z.string(), z.unknown()).optional(),
});

export interface CocoImportOptions {
  /** Folder that `file_name`s are relative to; default: the JSON's folder, its images/ or the sibling split folder. */
  imagesDir?: string;
  /** Split for every image; default: read from the file name (instances_val2017.json → val), else none. */
  split?: Split;
}

/** "instances_val2017.json" → val, "train.json" → train, "instances_Validation.json" → val; anything else → undefined. */
export function splitFromFileName(file: string): Split | undefined {
  const tokens = path.basename(file).replace(/\.json$/i, '').toLowerCase().split(/[_.\-\s]+/);
  for (const t of tokens) {
    const m = /^(train|val|valid|validation|test)\d*$/.exec(t);
    if (m) return m[1] === 'train' ? 'train' : m[1] === 'test' ? 'test' : 'val';
  }
  return undefined;
}

/**
 * `p` is one COCO JSON, or a folder holding them: CVAT / Datumaro's annotations/instances_<subset>.json beside
 * images/<subset>/, Roboflow's <split>/_annotations.coco.json beside its images, or JSON files at the top. Each
 * file's subset (from its name, else its folder) becomes the split of its images.
 */
export async function importCoco(p: string, opts: CocoImportOptions = {}): Promise<Dataset> {
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new Error(`${p}: no such file or folder`);
  if (!st.isDirectory()) return importCocoFile(abs, opts);
  const files = await findCocoFiles(abs);
  if (files.length === 0) {
    throw new Error(`${p} is a folder without a COCO JSON in it (looked for annotations/instances_<subset>.json, <split>/_annotations.coco.json and *.json at the top): give the JSON file, or the folder that holds annotations/`);
  }
  if (files.length === 1) return importCocoFile(files[0], { ...opts, split: opts.split ?? splitOfFile(abs, files[0]) });
  return mergeDatasets(
    abs,
    await Promise.all(files.map(async (f) => ({ file: f, ds: await importCocoFile(f, { ...opts, split: opts.split ?? splitOfFile(abs, f) }) }))),
  );
}

/** The subset a COCO file holds: from its name (instances_train.json), else from its folder (Roboflow's valid/). */
function splitOfFile(root: string, file: string): Split | undefined {
  return splitFromFileName(file) ?? splitFromFileName(path.basename(path.dirname(file)));
}

async function findCocoFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const scan = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isFile() && e.name.toLowerCase().endsWith('.json') && (await jsonKind(path.join(dir, e.name))) === 'coco') out.push(path.join(dir, e.name));
    }
    return entries;
  };
  const top = await scan(root);
  if (await exists(path.join(root, 'annotations'))) await scan(path.join(root, 'annotations'));
  if (out.length === 0) for (const e of top) if (e.isDirectory() && !e.name.startsWith('.')) await scan(path.join(root, e.name));
  return out.sort();
}

/** Several subsets as one dataset: image keys made unique per file, classes joined by name. */
function mergeDatasets(root: string, parts: { file: string; ds: Dataset }[]): Dataset {
  const out: Dataset = { images: [], classes: [], annotations: [], issues: [] };
  const classNames = new Set<string>();
  for (const { file, ds } of parts) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    const key = (k: string) => `${rel}#${k}`;
    for (const im of ds.images) out.images.push({ ...im, key: key(im.key) });
    for (const c of ds.classes) {
      if (classNames.has(c.name)) continue;
      classNames.add(c.name);
      out.classes.push(c);
    }
    for (const a of ds.annotations) out.annotations.push({ ...a, imageKey: key(a.imageKey) });
    for (const i of ds.issues) out.issues.push({ ...i, file: i.file === path.basename(file) ? rel : i.file });
  }
  return out;
}

async function importCocoFile(abs: string, opts: CocoImportOptions = {}): Promise<Dataset> {
  const file = path.basename(abs);
  const json = await readJsonFile(abs, file);
  // COCO result files ([{image_id, bbox, score}, …]) are predictions, not a dataset
  if (Array.isArray(json)) throw new Error(`${file}: a list of detections (a COCO results file), not a COCO instances file with images, annotations and categories`);
  const root = CocoRoot.safeParse(json);
  if (!root.success) throw new Error(`${file}: not a COCO instances file: ${formatZodIssues(root.error.issues)}`);
  const issues = new IssueList();
  const split = opts.split ?? splitFromFileName(abs);

  // categories
  const classes: DatasetClass[] = [];
  const classById = new Map<number, string>();
  const names = new Set<string>();
  (root.data.categories ?? []).forEach((raw, i) => {
    const rec = `categories[${i}]`;
    const r = CocoCategory.safeParse(raw);
    if (!r.success) return issues.error(file, rec, formatZodIssues(r.error.issues));
    const c = r.data;
    if (classById.has(c.id)) return issues.error(file, `${rec} (id ${c.id})`, `category id ${c.id} is declared twice`);
    let name = c.name;
    if (names.has(name)) {
      name = `${c.name} (id ${c.id})`;
      issues.warn(file, `${rec} (id ${c.id})`, `category name '${c.name}' is used twice; imported as '${name}'`);
    }
    names.add(name);
    classById.set(c.id, name);
    classes.push({ name, sourceId: c.id });
  });

  // images
  const imagesRoot = opts.imagesDir ? path.resolve(opts.imagesDir) : await guessImagesRoot(abs, root.data.images);
  const images: DatasetImage[] = [];
  const imageByKey = new Map<string, DatasetImage>();
  // images refused for their own reasons (bad path, bad fields): their annotations are still checked, but
  // not reported again as pointing at a missing image
  const refused = new Map<string, DatasetImage>();
  let missingFiles = 0;
  for (let i = 0; i < root.data.images.length; i++) {
    const raw = root.data.images[i];
    const r = CocoImage.safeParse(raw);
    const idHint = typeof (raw as { id?: unknown })?.id === 'number' ? ` (id ${(raw as { id: number }).id})` : '';
    const rec = `images[${i}]${idHint}`;
    if (!r.success) {
      issues.error(file, rec, formatZodIssues(r.error.issues));
      const id = (raw as { id?: unknown })?.id;
      if (typeof id === 'number' || typeof id === 'string') refused.set(String(id), { key: String(id), fileName: '', absPath: null, width: 0, height: 0 });
      continue;
    }
    const im = r.data;
    const key = String(im.id);
    if (imageByKey.has(key)) {
      issues.error(file, rec, `image id ${im.id} is declared twice`);
      continue;
    }
    const resolved = resolveInside(imagesRoot, im.file_name);
    if (!resolved.ok) {
      issues.error(file, rec, `file_name: ${resolved.reason}`);
      refused.set(key, { key, fileName: im.file_name, absPath: null, width: im.width ?? 0, height: im.height ?? 0 });
      continue;
    }
    const found = await exists(resolved.abs);
    if (!found) {
      missingFiles++;
      if (missingFiles <= 20) issues.warn(file, rec, `image file not found: ${resolved.abs}`);
    }
    const img: DatasetImage = {
      key,
      fileName: resolved.rel,
      absPath: found ? resolved.abs : null,
      width: im.width ?? 0,
      height: im.height ?? 0,
    };
    if (split) img.split = split;
    if (im.tags?.length) img.tags = [...new Set(im.tags.map((t) => t.trim()).filter(Boolean))];
    images.push(img);
    imageByKey.set(key, img);
  }
  if (missingFiles > 20) issues.warn(file, undefined, `${missingFiles} image files not found in ${imagesRoot} (first 20 listed)`);

  // annotations
  const annotations: DatasetAnnotation[] = [];
  const seenAnnIds = new Set<string>();
  (root.data.annotations ?? []).forEach((raw, i) => {
    const idv = (raw as { id?: unknown })?.id;
    const rec = `annotations[${i}]${typeof idv === 'number' || typeof idv === 'string' ? ` (id ${idv})` : ''}`;
    const r = CocoAnnotation.safeParse(raw);
    if (!r.success) return issues.error(file, rec, formatZodIssues(r.error.issues));
    const a = r.data;
    if (a.id !== undefined) {
      if (seenAnnIds.has(String(a.id))) issues.warn(file, rec, `annotation id ${a.id} is used twice`);
      seenAnnIds.add(String(a.id));
    }
    const img = imageByKey.get(String(a.image_id));
    const refusedImg = img ? undefined : refused.get(String(a.image_id));
    if (!img && !refusedImg) return issues.error(file, rec, `image_id ${a.image_id} is not in 'images'`);
    const className = classById.get(a.category_id);
    if (className === undefined) return issues.error(file, rec, `category_id ${a.category_id} is not declared in 'categories'`);
    const g = cocoGeometry(a, (img ?? refusedImg)!);
    if ('error' in g) return issues.error(file, rec, g.error);
    if (!img) return; // its image was refused above
    const ann: DatasetAnnotation = { imageKey: img.key, className, geometry: g.geometry, sourceId: a.id };
    if (a.iscrowd === 1 || a.iscrowd === true) ann.iscrowd = true;
    if (a.score !== undefined) ann.score = a.score;
    if (a.attributes) {
      // CVAT writes rotation 0.0 on every box; only a real rotation is worth keeping
      const { rotation, ...rest } = a.attributes;
      const named = rotation === 0 || rotation === undefined ? rest : a.attributes;
      Object.assign(ann, splitAttributes(named, (name, why) => issues.warn(file, `${rec} attributes.${name.slice(0, 80)}`, `not kept: ${why}`)));
    }
    annotations.push(ann);
  });

  return { images, classes, annotations, issues: issues.items };
}

type GeometryResult = { geometry: Geometry } | { error: string };

function cocoGeometry(a: z.infer<typeof CocoAnnotation>, img: DatasetImage): GeometryResult {
  const seg = a.segmentation;
  if (seg && !Array.isArray(seg)) {
    const [h, w] = seg.size;
    if (img.width && img.height && (h !== img.height || w !== img.width)) {
      return { error: `segmentation size [${h}, ${w}] differs from the image's [height ${img.height}, width ${img.width}]` };
    }
    if (typeof seg.counts === 'string') {
      let counts: number[];
      try {
        counts = countsFromString(seg.counts);
      } catch (err) {
        return { error: `segmentation.counts: ${(err as Error).message}` };
      }
      const problem = checkCounts([h, w], counts);
      if (problem) return { error: `segmentation.counts: ${problem}` };
      return { geometry: { kind: 'mask', rle: { size: [h, w], counts: seg.counts } } };
    }
    const problem = checkCounts([h, w], seg.counts);
    if (problem) return { error: `segmentation.counts: ${problem}` };
    return { geometry: { kind: 'mask', rle: fromUncompressed([h, w], seg.counts) } };
  }
  if (seg && seg.length > 0) {
    for (let r = 0; r < seg.length; r++) {
      const ring = seg[r];
      if (ring.length % 2 !== 0) return { error: `segmentation[${r}] has an odd number of coordinates (${ring.length})` };
      if (ring.length < 6) return { error: `segmentation[${r}] has ${ring.length / 2} points; a polygon needs at least 3` };
      if (!ring.every(Number.isFinite)) return { error: `segmentation[${r}] has a non-finite coordinate` };
    }
    return { geometry: { kind: 'polygon', rings: seg.map((ring) => ring.slice()) } };
  }
  if (a.bbox) {
    const [x, y, w, h] = a.bbox;
    if (!a.bbox.every(Number.isFinite)) return { error: 'bbox has a non-finite value' };
    if (w < 0 || h < 0) return { error: `bbox has a negative size (width ${w}, height ${h})` };
    return { geometry: { kind: 'box', x, y, w, h } };
  }
  return { error: 'annotation has neither a segmentation nor a bbox' };
}

/**
 * Where `file_name`s are relative to. COCO releases put `annotations/instances_val2017.json` next to `val2017/`;
 * exports of this studio put `images/` beside the JSON. The first candidate that holds the first images wins.
 */
async function guessImagesRoot(jsonAbs: string, images: unknown[]): Promise<string> {
  const dir = path.dirname(jsonAbs);
  const stem = path.basename(jsonAbs, '.json').replace(/^instances_/, '');
  // CVAT and Datumaro: annotations/instances_<subset>.json beside images/<subset>/
  const candidates = [dir, path.join(dir, 'images'), path.join(dir, '..', 'images', stem), path.join(dir, '..', stem), path.join(dir, '..', 'images'), path.join(dir, '..')];
  const probe = images
    .slice(0, 5)
    .map((im) => (im as { file_name?: unknown })?.file_name)
    .filter((f): f is string => typeof f === 'string' && !path.isAbsolute(f) && !f.includes('..'));
  if (probe.length === 0) return dir;
  for (const c of candidates) {
    for (const f of probe) if (await exists(path.join(c, f))) return path.resolve(c);
  }
  return dir;
}
