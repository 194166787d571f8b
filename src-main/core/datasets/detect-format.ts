// Guess a dataset's format from what is on disk, for `import` without --format and for the UI's import dialog.
// The folder is looked through (a few levels deep) for what each tool writes; a folder that holds annotations of
// one format is that format, one that holds several is refused naming them, and only a folder with no
// annotations at all is a plain image folder: falling back to 'images' would silently drop the labels.
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isImageName } from './image-files';
import type { DatasetFormat } from './types';

const DEPTH = 3;
const MAX_ENTRIES = 20000;
const YAML_NAMES = new Set(['data.yaml', 'data.yml', 'dataset.yaml']);

type Evidence = Map<Exclude<DatasetFormat, 'images'>, string[]>;

export async function detectFormat(p: string): Promise<DatasetFormat> {
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new Error(`${p}: no such file or folder`);
  if (st.isFile()) return detectFile(abs, p);

  const ev: Evidence = new Map();
  const saw = (f: Exclude<DatasetFormat, 'images'>, what: string) => {
    const l = ev.get(f) ?? [];
    if (l.length < 3 && !l.includes(what)) l.push(what);
    ev.set(f, l);
  };
  let images = 0;
  let labelTxt = 0;
  let seen = 0;
  let strongYolo = false;
  let jsonChecked = 0;
  const walk = async (dir: string, depth: number) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    // files of this level first, then folders: a folder of 100 000 images must not hide annotations/ beside it
    entries.sort((a, b) => Number(a.isDirectory()) - Number(b.isDirectory()) || a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      const rel = path.relative(abs, full).split(path.sep).join('/');
      const lower = e.name.toLowerCase();
      if (!e.isDirectory() && isImageName(lower)) {
        images++; // cheap: only the name is looked at, so images do not count against the budget
        continue;
      }
      if (++seen > MAX_ENTRIES) return;
      if (e.isDirectory()) {
        if (lower === 'annotations' && (await hasXml(full))) saw('voc', `${rel}/*.xml`);
        if (lower === 'segmentationobject' || lower === 'segmentationclass') saw('voc', `${rel}/`);
        if (lower === 'labels' && (await exists(path.join(dir, 'images')))) saw('yolo', `${rel}/ beside images/`);
        if (depth < DEPTH && !lower.startsWith('.')) await walk(full, depth + 1);
        continue;
      }
      if (YAML_NAMES.has(lower) && depth <= 1) {
        saw('yolo', rel);
        strongYolo = true;
      } else if (lower === 'obj.data' || lower === 'obj.names' || (lower === 'classes.txt' && depth <= 1)) {
        saw('yolo', rel);
        if (lower === 'obj.data') strongYolo = true;
      } else if (lower.endsWith('.txt')) labelTxt++;
      else if (lower.endsWith('.xml') && (await xmlIsVoc(full))) saw('voc', rel);
      else if (lower.endsWith('.json') && jsonChecked++ < 200) {
        // a few hundred JSON heads tell the formats apart; a LabelMe folder of 50 000 files need not be read whole
        const k = await jsonKind(full);
        if (k) saw(k, rel);
      }
    }
  };
  await walk(abs, 0);

  // a YOLO yaml or Darknet obj.data says what the folder is, whatever else lies in it (Roboflow adds README files)
  if (strongYolo) return 'yolo';
  const found = [...ev.keys()];
  if (found.length === 1) return found[0];
  if (found.length > 1) {
    const list = found.map((f) => `${f} (${ev.get(f)!.join(', ')})`).join('; ');
    throw new Error(`${p} holds annotations of several formats: ${list}. Pass --format to say which to import, or point at the one file or folder`);
  }
  if (images > 0) return 'images';
  const txt = labelTxt ? `; it has ${labelTxt} .txt file(s) but no data.yaml, obj.data, obj.names or classes.txt to make them a YOLO dataset` : '';
  throw new Error(`${p}: found no images and no annotations this studio reads (COCO JSON, YOLO, Pascal VOC XML, LabelMe JSON)${txt}`);
}

async function detectFile(abs: string, shown: string): Promise<DatasetFormat> {
  const lower = abs.toLowerCase();
  if (lower.endsWith('.yaml') || lower.endsWith('.yml') || lower.endsWith('obj.data')) return 'yolo';
  if (isImageName(abs)) return 'images';
  if (lower.endsWith('.xml')) return 'voc';
  if (lower.endsWith('.json')) {
    const k = await jsonKind(abs);
    if (k) return k;
    throw new Error(`${shown}: a JSON file that is neither a COCO instances file (images, annotations, categories) nor a LabelMe file (shapes, imagePath)`);
  }
  throw new Error(`${shown}: not a dataset file this studio reads (a COCO or LabelMe .json, a YOLO data.yaml or obj.data, a VOC .xml, an image, or a folder)`);
}

async function exists(p: string): Promise<boolean> {
  return !!(await stat(p).catch(() => null));
}

async function hasXml(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.some((e) => e.toLowerCase().endsWith('.xml'));
}

/** The first bytes of a file: enough to tell formats apart without parsing a 1 GB COCO file. */
async function head(file: string, bytes = 256 * 1024): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

async function xmlIsVoc(file: string): Promise<boolean> {
  try {
    return /<annotation[\s>/]/.test(await head(file, 4096));
  } catch {
    return false;
  }
}

export async function jsonKind(file: string): Promise<'coco' | 'labelme' | null> {
  let text: string;
  try {
    text = await head(file);
  } catch {
    return null;
  }
  if (/"shapes"\s*:/.test(text) && (/"imagePath"\s*:/.test(text) || /"shape_type"\s*:/.test(text))) return 'labelme';
  if (/"images"\s*:/.test(text) && (/"annotations"\s*:/.test(text) || /"categories"\s*:/.test(text))) return 'coco';
  // "images" can come late in a big file: a COCO file names its categories or annotations first or soon after
  if (/"categories"\s*:\s*\[/.test(text) && /"(image_id|supercategory)"\s*:/.test(text)) return 'coco';
  return null;
}
