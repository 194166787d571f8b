// Ultralytics YOLO layout → neutral Dataset: data.yaml (names as a list or a {index: name} map), split entries
// that are folders or list files, labels found by swapping the last /images/ for /labels/, normalised boxes
// (`cls cx cy w h`) and polygons (`cls x1 y1 x2 y2 …`). Also the Darknet / CVAT "YOLO 1.1" layout (obj.data,
// obj.names, train.txt with data/ prefixes, labels beside the images) and bare folders with classes.txt or
// obj.names (labelImg). Pose labels (kpt_shape) keep their boxes; oriented boxes (8 numbers) become polygons.
// Pixel coordinates need each image's size, read with sharp (after EXIF orientation, as Ultralytics does).
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { Geometry, Split } from '../../contract/schemas';
import { exists, imageSize, isImageName, listImageFiles } from './image-files';
import { IssueList, formatZodIssues } from './issues';
import { isInside, resolveInside, type SafePath } from './safe-path';
import type { Dataset, DatasetAnnotation, DatasetClass, DatasetImage } from './types';

const SplitEntry = z.union([z.string().min(1), z.array(z.string().min(1))]);
const DataYaml = z.object({
  path: z.string().nullable().optional(),
  train: SplitEntry.nullable().optional(),
  val: SplitEntry.nullable().optional(),
  test: SplitEntry.nullable().optional(),
  nc: z.number().int().nonnegative().nullable().optional(),
  names: z.union([z.array(z.union([z.string(), z.number()])), z.record(z.string(), z.union([z.string(), z.number()]))]).optional(),
  kpt_shape: z.tuple([z.number().int().positive(), z.number().int().positive()]).nullable().optional(),
});
type Config = z.infer<typeof DataYaml>;

const SPLITS: Split[] = ['train', 'val', 'test'];
const YAML_NAMES = ['data.yaml', 'data.yml', 'dataset.yaml'];

/** `p` is data.yaml / obj.data, or a folder holding one (or a bare folder of images, labels and class names). */
export async function importYolo(p: string): Promise<Dataset> {
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new Error(`${p}: no such file or folder`);
  // the folder the user chose: nothing the dataset names may lead out of it
  const chosen = st.isFile() ? path.dirname(abs) : abs;
  let yamlPath: string | null = null;
  let objData: string | null = null;
  if (st.isFile()) {
    if (/\.data$/i.test(abs)) objData = abs;
    else yamlPath = abs;
  } else {
    for (const n of YAML_NAMES) if (await exists(path.join(abs, n))) { yamlPath = path.join(abs, n); break; }
    if (!yamlPath) {
      const names = await readdir(abs);
      const yamls = names.filter((n) => /\.ya?ml$/i.test(n));
      if (yamls.length === 1) yamlPath = path.join(abs, yamls[0]);
      else if (names.includes('obj.data')) objData = path.join(abs, 'obj.data');
    }
  }
  const issues = new IssueList();
  const notes = { keypoints: 0, obb: 0, lines: 0, kptShape: null as [number, number] | null };
  let config: Config;
  let base: string;
  let configFile: string;
  if (yamlPath) {
    configFile = path.basename(yamlPath);
    config = await readYaml(yamlPath, configFile);
    const yamlDir = path.dirname(yamlPath);
    base = yamlDir;
    if (config.path) {
      const r = path.resolve(yamlDir, config.path);
      if (isInside(chosen, r) && (await exists(r))) base = r;
      else issues.warn(configFile, 'path', `dataset root '${config.path}' ${isInside(chosen, r) ? 'does not exist' : 'lies outside the folder you chose'}; using the folder of ${configFile}`);
    }
    notes.kptShape = (config.kpt_shape as [number, number] | null | undefined) ?? null;
  } else if (objData) {
    configFile = path.basename(objData);
    ({ config, base } = await readObjData(objData, chosen, issues));
  } else {
    configFile = '(folder)';
    base = abs;
    config = await bareLayout(abs, issues);
  }

  // classes
  const names = classNames(config, configFile, issues);
  const inferNames = names === null;
  const classes: DatasetClass[] = (names ?? []).map((name, i) => ({ name, sourceId: i }));

  // images, by split
  const images: DatasetImage[] = [];
  const byKey = new Map<string, DatasetImage>();
  for (const split of SPLITS) {
    const entry = config[split];
    if (!entry) continue;
    for (const e of Array.isArray(entry) ? entry : [entry]) {
      const files = await splitFiles(chosen, base, e, configFile, split, issues);
      for (const f of files) {
        const key = path.relative(chosen, f).split(path.sep).join('/');
        if (byKey.has(key)) {
          if (byKey.get(key)!.split !== split) issues.warn(configFile, split, `${key} is already in split '${byKey.get(key)!.split}'; kept there`);
          continue;
        }
        const img: DatasetImage = { key, fileName: key, absPath: f, width: 0, height: 0, split };
        byKey.set(key, img);
        images.push(img);
      }
    }
  }

  // labels
  const annotations: DatasetAnnotation[] = [];
  const seenIndices = new Set<number>();
  for (const img of images) {
    const labelAbs = labelPathFor(img.absPath!);
    const labelRel = path.relative(chosen, labelAbs).split(path.sep).join('/');
    let text: string;
    try {
      text = await readFile(labelAbs, 'utf8');
    } catch {
      continue; // no label file: an image without objects
    }
    const lines = text.split(/\r?\n/);
    const size = await imageSize(img.absPath!);
    if ('error' in size) {
      const n = lines.filter((l) => l.trim()).length;
      // the store skips the image with its own warning; its labels cannot be placed without a size
      if (n) issues.warn(labelRel, undefined, `${n} label line(s) not read: the image ${img.fileName} cannot be read (${size.error})`);
      continue;
    }
    img.width = size.width;
    img.height = size.height;
    lines.forEach((line, i) => {
      const t = line.trim();
      if (!t) return;
      const rec = `line ${i + 1}`;
      const parsed = parseLabelLine(t, img.width, img.height, notes.kptShape);
      if ('error' in parsed) return issues.error(labelRel, rec, parsed.error);
      if (parsed.keypoints) notes.keypoints++;
      if (parsed.obb) notes.obb++;
      notes.lines++;
      if (!inferNames && parsed.cls >= classes.length) {
        return issues.error(labelRel, rec, `class index ${parsed.cls} is not declared in ${configFile} (it names ${classes.length} class${classes.length === 1 ? '' : 'es'}: 0–${classes.length - 1})`);
      }
      seenIndices.add(parsed.cls);
      annotations.push({ imageKey: img.key, className: inferNames ? `class${parsed.cls}` : classes[parsed.cls].name, geometry: parsed.geometry, sourceId: `${labelRel}:${i + 1}` });
    });
  }
  if (notes.keypoints) {
    const [n, d] = notes.kptShape!;
    issues.warn(configFile, 'kpt_shape', `${notes.keypoints} pose label(s) with ${n} keypoints (${d} values each): their boxes were imported, the keypoints were dropped (the studio has no keypoint type)`);
  }
  // every line 4 corner points: an oriented-box (OBB) dataset, not polygons that happen to have 4 points
  if (notes.obb && notes.obb === notes.lines) issues.warn(configFile, undefined, `all ${notes.obb} label(s) give 4 corner points (YOLO OBB oriented boxes): imported as 4-point polygons (the studio has no rotated box)`);
  if (!objData) await reportOrphanLabels(base, images, issues);
  if (inferNames) {
    const sorted = [...seenIndices].sort((a, b) => a - b);
    for (const i of sorted) classes.push({ name: `class${i}`, sourceId: i });
    if (sorted.length) issues.warn(configFile, 'names', `no class names given; classes are named class0, class1, …`);
  }
  return { images, classes, annotations, issues: issues.items };
}

async function readYaml(yamlPath: string, yamlFile: string): Promise<Config> {
  const text = await readFile(yamlPath, 'utf8');
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (err) {
    const e = err as { linePos?: { line: number; col: number }[]; message: string };
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new Error(`${yamlFile}: invalid YAML${where}: ${e.message.split('\n')[0]}`);
  }
  const r = DataYaml.safeParse(parsed ?? {});
  if (!r.success) throw new Error(`${yamlFile}: ${formatZodIssues(r.error.issues)}`);
  return r.data;
}

/**
 * Darknet's obj.data ("classes = 3", "train = data/train.txt", "names = data/obj.names"). Its paths are relative
 * to Darknet's working folder, whose data/ is the exported folder (CVAT writes them so): a path that is not
 * found as written is tried without its leading data/.
 */
async function readObjData(file: string, chosen: string, issues: IssueList): Promise<{ config: Config; base: string }> {
  const shown = path.basename(file);
  const base = path.dirname(file);
  const kv = new Map<string, string>();
  for (const line of (await readFile(file, 'utf8')).split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line.replace(/#.*$/, ''));
    if (m) kv.set(m[1].toLowerCase(), m[2]);
  }
  const config: Config = {};
  const namesEntry = kv.get('names');
  const namesFile = namesEntry ? await darknetPath(chosen, base, namesEntry) : null;
  const fallbackNames = path.join(base, 'obj.names');
  const nf = namesFile ?? ((await exists(fallbackNames)) ? fallbackNames : null);
  if (nf) config.names = await readNamesFile(nf);
  else issues.warn(shown, 'names', namesEntry ? `names file '${namesEntry}' not found` : 'no names entry and no obj.names');
  const n = Number(kv.get('classes'));
  if (kv.has('classes') && Number.isInteger(n) && n >= 0) config.nc = n;
  for (const [key, split] of [['train', 'train'], ['valid', 'val'], ['val', 'val'], ['test', 'test']] as const) {
    const v = kv.get(key);
    if (!v || config[split]) continue;
    const found = await darknetPath(chosen, base, v);
    if (found) config[split] = path.relative(base, found).split(path.sep).join('/') || '.';
    else issues.warn(shown, key, `list '${v}' not found (also looked for it without its data/ prefix)`);
  }
  if (!config.train && !config.val && !config.test) throw new Error(`${shown}: names no train, valid or test list that exists; not a usable Darknet / CVAT YOLO 1.1 dataset`);
  return { config, base };
}

/** A path from a Darknet file: as written (relative to the folder), else without a leading data/; inside `chosen`. */
async function darknetPath(chosen: string, base: string, entry: string): Promise<string | null> {
  const n = entry.replace(/\\/g, '/');
  for (const cand of [n, n.replace(/^(\.\/)?data\//, '')]) {
    const abs = path.resolve(base, cand);
    if (isInside(chosen, abs) && (await exists(abs))) return abs;
  }
  return null;
}

async function readNamesFile(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/** Split named by a folder on the way: train/, valid/, obj_train_data/, images/val2017/… */
export function splitFromPath(rel: string): Split | undefined {
  for (const seg of rel.split('/').slice(0, -1).reverse()) {
    const m = /^(?:obj_)?(train|val|valid|validation|test)(?:\d*|_data)$/i.exec(seg);
    if (m) return m[1].toLowerCase() === 'train' ? 'train' : m[1].toLowerCase() === 'test' ? 'test' : 'val';
  }
  return undefined;
}

/**
 * No data.yaml and no obj.data: images/<split>/ (or images/) beside labels/, or images with their .txt beside them
 * (labelImg, Darknet without obj.data); class names from classes.txt, obj.names or the one *.names file.
 */
async function bareLayout(root: string, issues: IssueList): Promise<Config> {
  const config: Config = {};
  for (const s of SPLITS) if (await exists(path.join(root, 'images', s))) config[s] = `images/${s}`;
  if (!config.train && !config.val && (await exists(path.join(root, 'images')))) config.train = 'images';
  const entries = await readdir(root);
  const dotNames = entries.filter((n) => n.endsWith('.names'));
  const namesFile = ['classes.txt', 'obj.names'].find((n) => entries.includes(n)) ?? (dotNames.length === 1 ? dotNames[0] : undefined);
  if (namesFile) config.names = await readNamesFile(path.join(root, namesFile));
  if (config.train || config.val) return config;
  // labels beside the images: every image below the folder, split from the folders it is in
  const files = await listImageFiles(root);
  let labelled = 0;
  for (const f of files) if (await exists(labelPathFor(f))) labelled++;
  if (labelled === 0) {
    throw new Error(`${root}: no data.yaml, no obj.data, no images/ folder and no image with a .txt label beside it: not a YOLO dataset`);
  }
  const bySplit = new Map<Split, string[]>();
  for (const f of files) {
    const s = splitFromPath(path.relative(root, f).split(path.sep).join('/')) ?? 'train';
    bySplit.set(s, [...(bySplit.get(s) ?? []), path.relative(root, f).split(path.sep).join('/')]);
  }
  for (const [s, fs] of bySplit) config[s] = fs;
  if (!namesFile) issues.warn('(folder)', undefined, 'no data.yaml, classes.txt or obj.names: class names are not known');
  return config;
}

/** Label files under labels/ that no image points at: usually a renamed or deleted image, worth a warning. */
async function reportOrphanLabels(root: string, images: DatasetImage[], issues: IssueList): Promise<void> {
  const expected = new Set(images.map((i) => labelPathFor(i.absPath!)));
  const labelsDir = path.join(root, 'labels');
  let entries;
  try {
    entries = await readdir(labelsDir, { withFileTypes: true, recursive: true });
  } catch {
    return;
  }
  const orphans = entries
    .filter((e) => e.isFile() && e.name.endsWith('.txt'))
    .map((e) => path.join(e.parentPath ?? labelsDir, e.name))
    .filter((f) => !expected.has(f));
  for (const f of orphans.slice(0, 20)) {
    issues.warn(path.relative(root, f).split(path.sep).join('/'), undefined, 'label file without a matching image; not imported');
  }
  if (orphans.length > 20) issues.warn('labels', undefined, `${orphans.length} label files without a matching image (first 20 listed)`);
}

function classNames(config: Config, file: string, issues: IssueList): string[] | null {
  const n = config.names;
  if (n === undefined) return null;
  let names: string[];
  if (Array.isArray(n)) names = n.map(String);
  else {
    const entries = Object.entries(n);
    const idx = entries.map(([k]) => Number(k));
    if (idx.some((k) => !Number.isInteger(k) || k < 0)) {
      throw new Error(`${file}: names: keys must be class indices 0, 1, …; got ${entries.map(([k]) => `'${k}'`).join(', ')}`);
    }
    const max = Math.max(-1, ...idx);
    names = Array.from({ length: max + 1 }, (_, i) => (n[String(i)] !== undefined ? String(n[String(i)]) : ''));
    names.forEach((v, i) => {
      if (!v) {
        names[i] = `class${i}`;
        issues.warn(file, 'names', `class index ${i} has no name; named class${i}`);
      }
    });
  }
  const seen = new Set<string>();
  names.forEach((v, i) => {
    if (seen.has(v)) {
      names[i] = `${v} (${i})`;
      issues.warn(file, `names[${i}]`, `class name '${v}' is used twice; imported as '${names[i]}'`);
    }
    seen.add(names[i]);
  });
  if (config.nc != null && config.nc !== names.length) {
    issues.warn(file, 'nc', `nc is ${config.nc} but names lists ${names.length} classes; using names`);
  }
  return names;
}

/**
 * Where a split entry points, the way Ultralytics resolves it: relative to the dataset folder, and when that does
 * not exist and the entry starts with ../ (Roboflow writes "train: ../train/images"), the same path inside the
 * dataset folder. Whatever is found must lie in the folder the user chose.
 */
export async function resolveSplitEntry(chosen: string, base: string, entry: string): Promise<(SafePath & { ok: false }) | { ok: true; abs: string; rel: string; exists: boolean }> {
  const n = entry.replace(/\\/g, '/');
  const isAbs = path.isAbsolute(n) || /^[A-Za-z]:\//.test(n);
  const direct = path.resolve(base, n);
  const rel = (a: string) => path.relative(chosen, a).split(path.sep).join('/');
  if (isInside(chosen, direct) && (await exists(direct))) return { ok: true, abs: direct, rel: rel(direct), exists: true };
  if (!isAbs && n.startsWith('../')) {
    const inside = resolveInside(base, n.replace(/^(\.\.\/)+/, ''));
    if (inside.ok && isInside(chosen, inside.abs) && (await exists(inside.abs))) return { ok: true, abs: inside.abs, rel: rel(inside.abs), exists: true };
  }
  if (!isInside(chosen, direct)) {
    return {
      ok: false,
      reason: isAbs
        ? `absolute path '${entry}' is outside the folder you chose (${chosen})`
        : `path '${entry}' leads out of the folder you chose (${chosen}) and is not found inside it either (path traversal)`,
    };
  }
  return { ok: true, abs: direct, rel: rel(direct), exists: false };
}

/** Image files of one split entry: a folder (recursive), a list file, or a single image. */
async function splitFiles(chosen: string, base: string, entry: string, file: string, split: Split, issues: IssueList): Promise<string[]> {
  const r = await resolveSplitEntry(chosen, base, entry);
  if (!r.ok) {
    issues.error(file, split, r.reason);
    return [];
  }
  if (!r.exists) {
    issues.error(file, split, `'${entry}' does not exist (looked for ${r.abs})`);
    return [];
  }
  const st = await stat(r.abs);
  if (st.isDirectory()) return listImageFiles(r.abs);
  if (isImageName(r.abs)) return [r.abs];
  // a list file: one image per line; "./x" is relative to the list file, other relative names to the dataset
  // folder; Darknet lists (CVAT) prefix them with data/, which is the dataset folder itself
  const listRel = r.rel;
  const listDir = path.dirname(r.abs);
  const out: string[] = [];
  const lines = (await readFile(r.abs, 'utf8')).split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const rec = `line ${i + 1}`;
    const n = line.replace(/\\/g, '/');
    const bases = n.startsWith('./') ? [listDir] : [base, listDir];
    let candidate = path.isAbsolute(n) ? path.resolve(n) : path.resolve(bases[0], n);
    if (!isInside(chosen, candidate)) {
      issues.error(listRel, rec, path.isAbsolute(n) ? `absolute path '${line}' is outside the dataset root ${chosen}` : `path '${line}' leaves the dataset root (path traversal)`);
      continue;
    }
    if (!isImageName(candidate)) {
      issues.error(listRel, rec, `'${line}' is not an image file name`);
      continue;
    }
    if (!(await exists(candidate)) && !path.isAbsolute(n)) {
      search: for (const b of bases) {
        for (const c of [n, n.replace(/^(\.\/)?data\//, '')]) {
          const alt = path.resolve(b, c);
          if (isInside(chosen, alt) && (await exists(alt))) {
            candidate = alt;
            break search;
          }
        }
      }
    }
    if (!(await exists(candidate))) {
      issues.warn(listRel, rec, `image not found: ${candidate}`);
      continue;
    }
    out.push(candidate);
  }
  return out;
}

/** Ultralytics' rule: the last "/images/" in the path becomes "/labels/", the extension ".txt". */
export function labelPathFor(imageAbs: string): string {
  const sep = path.sep;
  const a = `${sep}images${sep}`;
  const i = imageAbs.lastIndexOf(a);
  const swapped = i >= 0 ? `${imageAbs.slice(0, i)}${sep}labels${sep}${imageAbs.slice(i + a.length)}` : imageAbs;
  return swapped.slice(0, swapped.length - path.extname(swapped).length) + '.txt';
}

type ParsedLine = { cls: number; geometry: Geometry; keypoints?: boolean; obb?: boolean } | { error: string };

/** One label line; `kptShape` [keypoints, values each] from data.yaml makes `cls box kpts…` a pose line. */
export function parseLabelLine(line: string, W: number, H: number, kptShape: [number, number] | null = null): ParsedLine {
  const tok = line.split(/\s+/);
  const cls = Number(tok[0]);
  if (!Number.isInteger(cls) || cls < 0) return { error: `class index '${tok[0]}' is not a non-negative integer` };
  const v = tok.slice(1).map(Number);
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) return { error: `value ${bad + 2} ('${tok[bad + 1]}') is not a number` };
  const box = (): ParsedLine => {
    const [cx, cy, w, h] = v;
    if (w < 0 || h < 0) return { error: `box has a negative size (w ${w}, h ${h})` };
    return { cls, geometry: { kind: 'box', x: (cx - w / 2) * W, y: (cy - h / 2) * H, w: w * W, h: h * H } };
  };
  if (v.length === 4) return box();
  if (kptShape && v.length === 4 + kptShape[0] * kptShape[1]) {
    const r = box();
    return 'error' in r ? r : { ...r, keypoints: true };
  }
  const expected = 'a box is 4 numbers after the class (cx cy w h), a polygon an even number of at least 6 (x y pairs)' +
    (kptShape ? `, a pose line ${4 + kptShape[0] * kptShape[1]} (box + kpt_shape ${kptShape[0]}×${kptShape[1]})` : '');
  if (v.length === 0) return { error: `no numbers after the class index; ${expected}` };
  if (v.length < 4 || v.length % 2 !== 0) {
    return { error: `${v.length} number${v.length === 1 ? '' : 's'} after the class index, which is neither a box nor a polygon: ${expected}` };
  }
  const geometry: Geometry = { kind: 'polygon', rings: [v.map((x, i) => (i % 2 === 0 ? x * W : x * H))] };
  return v.length === 8 ? { cls, geometry, obb: true } : { cls, geometry };
}
