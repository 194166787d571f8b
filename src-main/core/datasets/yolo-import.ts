// Ultralytics YOLO layout → neutral Dataset: data.yaml (names as a list or a {index: name} map), split entries
// that are folders or list files, labels found by swapping the last /images/ for /labels/, normalised boxes
// (`cls cx cy w h`) and polygons (`cls x1 y1 x2 y2 …`). Pixel coordinates need each image's size, read
// with sharp (after EXIF orientation, as Ultralytics does).
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { Geometry, Split } from '../../contract/schemas';
import { exists, imageSize, isImageName, listImageFiles } from './image-files';
import { IssueList, formatZodIssues } from './issues';
import { isInside, resolveInside } from './safe-path';
import type { Dataset, DatasetAnnotation, DatasetClass, DatasetImage } from './types';

const SplitEntry = z.union([z.string().min(1), z.array(z.string().min(1))]);
const DataYaml = z.object({
  path: z.string().optional(),
  train: SplitEntry.optional(),
  val: SplitEntry.optional(),
  test: SplitEntry.optional(),
  nc: z.number().int().nonnegative().optional(),
  names: z.union([z.array(z.union([z.string(), z.number()])), z.record(z.string(), z.union([z.string(), z.number()]))]).optional(),
});

const SPLITS: Split[] = ['train', 'val', 'test'];
/** Normalised coordinates may overshoot [0,1] by rounding; beyond this they are reported. */
const TOLERANCE = 0.01;

/** `p` is data.yaml, or a folder holding one (or holding images/ and labels/ without a yaml). */
export async function importYolo(p: string): Promise<Dataset> {
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new Error(`${p}: no such file or folder`);
  let yamlPath: string | null = null;
  if (st.isFile()) yamlPath = abs;
  else {
    for (const n of ['data.yaml', 'data.yml', 'dataset.yaml']) if (await exists(path.join(abs, n))) { yamlPath = path.join(abs, n); break; }
    if (!yamlPath) {
      const yamls = (await readdir(abs)).filter((n) => /\.ya?ml$/i.test(n));
      if (yamls.length === 1) yamlPath = path.join(abs, yamls[0]);
    }
  }
  const issues = new IssueList();
  const yamlFile = yamlPath ? path.basename(yamlPath) : 'data.yaml';
  let config: z.infer<typeof DataYaml>;
  let root: string;
  if (yamlPath) {
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
    config = r.data;
    const yamlDir = path.dirname(yamlPath);
    root = config.path ? path.resolve(yamlDir, config.path) : yamlDir;
    if (config.path && !(await exists(root))) {
      issues.warn(yamlFile, 'path', `dataset root '${config.path}' does not exist; using the folder of ${yamlFile}`);
      root = yamlDir;
    }
  } else {
    // no yaml: the bare layout, with class names from classes.txt if present
    root = abs;
    config = {};
    for (const s of SPLITS) if (await exists(path.join(root, 'images', s))) config[s] = `images/${s}`;
    if (!config.train && !config.val && (await exists(path.join(root, 'images')))) config.train = 'images';
    if (!config.train && !config.val) throw new Error(`${p}: no data.yaml and no images/ folder: not a YOLO dataset`);
    if (await exists(path.join(root, 'classes.txt'))) {
      config.names = (await readFile(path.join(root, 'classes.txt'), 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    }
  }

  // classes
  const names = classNames(config, yamlFile, issues);
  const inferNames = names === null;
  const classes: DatasetClass[] = (names ?? []).map((name, i) => ({ name, sourceId: i }));

  // images, by split
  const images: DatasetImage[] = [];
  const byKey = new Map<string, DatasetImage>();
  for (const split of SPLITS) {
    const entry = config[split];
    if (!entry) continue;
    for (const e of Array.isArray(entry) ? entry : [entry]) {
      const files = await splitFiles(root, e, `${yamlFile}`, split, issues);
      for (const f of files) {
        const key = path.relative(root, f).split(path.sep).join('/');
        if (byKey.has(key)) {
          if (byKey.get(key)!.split !== split) issues.warn(yamlFile, split, `${key} is already in split '${byKey.get(key)!.split}'; kept there`);
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
    const labelRel = path.relative(root, labelAbs).split(path.sep).join('/');
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
      issues.warn(img.fileName, undefined, `${size.error}; its ${n} label line(s) in ${labelRel} need the image size and were skipped`);
      continue;
    }
    img.width = size.width;
    img.height = size.height;
    lines.forEach((line, i) => {
      const t = line.trim();
      if (!t) return;
      const rec = `line ${i + 1}`;
      const parsed = parseLabelLine(t, img.width, img.height);
      if ('error' in parsed) return issues.error(labelRel, rec, parsed.error);
      if (parsed.outOfRange) issues.warn(labelRel, rec, 'coordinates outside the image (normalised values beyond [0, 1])');
      if (!inferNames && parsed.cls >= classes.length) {
        return issues.error(labelRel, rec, `class index ${parsed.cls} is not declared in ${yamlFile} (names has ${classes.length})`);
      }
      seenIndices.add(parsed.cls);
      annotations.push({ imageKey: img.key, className: inferNames ? `class${parsed.cls}` : classes[parsed.cls].name, geometry: parsed.geometry, sourceId: `${labelRel}:${i + 1}` });
    });
  }
  await reportOrphanLabels(root, images, issues);
  if (inferNames) {
    const sorted = [...seenIndices].sort((a, b) => a - b);
    for (const i of sorted) classes.push({ name: `class${i}`, sourceId: i });
    if (sorted.length) issues.warn(yamlFile, 'names', `no class names given; classes are named class0, class1, …`);
  }
  return { images, classes, annotations, issues: issues.items };
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

function classNames(config: z.infer<typeof DataYaml>, file: string, issues: IssueList): string[] | null {
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
  if (config.nc !== undefined && config.nc !== names.length) {
    issues.warn(file, 'nc', `nc is ${config.nc} but names lists ${names.length} classes; using names`);
  }
  return names;
}

/** Image files of one split entry: a folder (recursive), a list file, or a single image. */
async function splitFiles(root: string, entry: string, file: string, split: Split, issues: IssueList): Promise<string[]> {
  const r = resolveInside(root, entry);
  if (!r.ok) {
    issues.error(file, split, r.reason);
    return [];
  }
  const st = await stat(r.abs).catch(() => null);
  if (!st) {
    issues.error(file, split, `'${entry}' does not exist (looked for ${r.abs})`);
    return [];
  }
  if (st.isDirectory()) return listImageFiles(r.abs);
  if (isImageName(r.abs)) return [r.abs];
  // a list file: one image per line; "./x" is relative to the list file, other relative names to the root
  const listRel = r.rel;
  const listDir = path.dirname(r.abs);
  const out: string[] = [];
  const lines = (await readFile(r.abs, 'utf8')).split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const rec = `line ${i + 1}`;
    const n = line.replace(/\\/g, '/');
    const base = n.startsWith('./') ? listDir : root;
    const candidate = path.isAbsolute(n) ? path.resolve(n) : path.resolve(base, n);
    if (!isInside(root, candidate)) {
      issues.error(listRel, rec, path.isAbsolute(n) ? `absolute path '${line}' is outside the dataset root ${root}` : `path '${line}' leaves the dataset root (path traversal)`);
      continue;
    }
    if (!isImageName(candidate)) {
      issues.error(listRel, rec, `'${line}' is not an image file name`);
      continue;
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

type ParsedLine = { cls: number; geometry: Geometry; outOfRange: boolean } | { error: string };

export function parseLabelLine(line: string, W: number, H: number): ParsedLine {
  const tok = line.split(/\s+/);
  const cls = Number(tok[0]);
  if (!Number.isInteger(cls) || cls < 0) return { error: `class index '${tok[0]}' is not a non-negative integer` };
  const v = tok.slice(1).map(Number);
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) return { error: `value ${bad + 2} ('${tok[bad + 1]}') is not a number` };
  const out = v.some((x) => x < -TOLERANCE || x > 1 + TOLERANCE);
  if (v.length === 4) {
    const [cx, cy, w, h] = v;
    if (w < 0 || h < 0) return { error: `box has a negative size (w ${w}, h ${h})` };
    return { cls, geometry: { kind: 'box', x: (cx - w / 2) * W, y: (cy - h / 2) * H, w: w * W, h: h * H }, outOfRange: out };
  }
  if (v.length % 2 !== 0) return { error: `polygon has an odd number of coordinates (${v.length})` };
  if (v.length < 6) return { error: `${v.length === 0 ? 'no coordinates' : `polygon has ${v.length / 2} points; at least 3 are needed`}` };
  return { cls, geometry: { kind: 'polygon', rings: [v.map((x, i) => (i % 2 === 0 ? x * W : x * H))] }, outOfRange: out };
}
