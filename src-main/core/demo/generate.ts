// The demo "shapes" dataset: deterministic synthetic pictures with exact boxes and instance masks, written
// as image files plus a COCO annotations.json, and returned as a neutral Dataset for the store to ingest.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { Geometry, Rle, Split } from '../../contract/schemas';
import type { Dataset, DatasetAnnotation, DatasetImage } from '../datasets/types';
import { encodeMask } from '../geometry/rle';
import { rleToPolygons } from '../geometry/rasterize';
import { Rng } from './rng';
import { renderScene, type SceneOptions } from './scene';
import { SHAPE_CLASSES, SHAPE_CLASS_COLORS, type ShapeClassName } from './shapes';

export interface GenerateShapesOptions {
  /** Number of images. */
  count: number;
  /** Square side in pixels, or [width, height]. */
  size: number | [number, number];
  seed: number;
  /** Folder to write into (created if missing): images/…, annotations.json. */
  outDir: string;
  /** Which shape classes to draw (default: circle, triangle, square). */
  classes?: ShapeClassName[];
  /** Inclusive range of shapes per image (default [1, 5]). */
  objectsPerImage?: [number, number];
  /** Circumradius range as a fraction of the shorter side (default [0.07, 0.24]). */
  scale?: [number, number];
  /** Part of the images put in the val split (default 0.2). */
  valFraction?: number;
  /** The geometry each annotation carries (default 'mask': COCO compressed RLE). */
  geometry?: 'mask' | 'polygon' | 'box';
  format?: 'png' | 'jpeg';
  /** Sensor noise standard deviation in grey levels (default 4). */
  noise?: number;
}

/** Everything known about one object; parallel to `annotations`. */
export interface ShapesInstance {
  imageKey: string;
  className: ShapeClassName;
  /** Tight box of the visible mask [x, y, w, h]. */
  bbox: [number, number, number, number];
  /** Visible pixels. */
  area: number;
  rle: Rle;
  /** Outer outlines of the visible mask (pixel-corner vertices); holes cut by occluders are not representable. */
  polygons: number[][];
  holesDropped: number;
}

export interface ShapesDataset extends Dataset {
  root: string;
  instances: ShapesInstance[];
}

export const DEMO_DEFAULTS = {
  count: 200,
  size: 160,
  seed: 20260501,
  classes: ['circle', 'triangle', 'square'] as ShapeClassName[],
  valFraction: 0.2,
} as const;

function checkOptions(o: GenerateShapesOptions): { w: number; h: number; classes: ShapeClassName[] } {
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > 100000) throw new Error(`shapes demo: count must be an integer from 1 to 100000, got ${o.count}`);
  const [w, h] = typeof o.size === 'number' ? [o.size, o.size] : o.size;
  for (const [name, v] of [['width', w], ['height', h]] as const) {
    if (!Number.isInteger(v) || v < 32 || v > 4096) throw new Error(`shapes demo: image ${name} must be an integer from 32 to 4096 pixels, got ${v}`);
  }
  if (!Number.isFinite(o.seed)) throw new Error(`shapes demo: seed must be a number, got ${o.seed}`);
  const classes = o.classes ?? [...DEMO_DEFAULTS.classes];
  if (classes.length === 0) throw new Error('shapes demo: at least one class is needed');
  for (const c of classes) {
    if (!SHAPE_CLASSES.includes(c)) throw new Error(`shapes demo: unknown class '${c}' (known: ${SHAPE_CLASSES.join(', ')})`);
  }
  if (new Set(classes).size !== classes.length) throw new Error('shapes demo: classes are listed twice');
  const vf = o.valFraction ?? DEMO_DEFAULTS.valFraction;
  if (!(vf >= 0 && vf < 1)) throw new Error(`shapes demo: valFraction must be in [0, 1), got ${vf}`);
  const [a, b] = o.objectsPerImage ?? [1, 5];
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < a || b > 50) throw new Error(`shapes demo: objectsPerImage must be [min, max] with 0 <= min <= max <= 50, got [${a}, ${b}]`);
  const [s0, s1] = o.scale ?? [0.07, 0.24];
  if (!(s0 > 0 && s1 >= s0 && s1 <= 0.6)) throw new Error(`shapes demo: scale must be [min, max] with 0 < min <= max <= 0.6, got [${s0}, ${s1}]`);
  return { w, h, classes };
}

/** Deterministic split: exactly round(count·valFraction) images in val, chosen by a seeded shuffle. */
export function shapesSplit(count: number, seed: number, valFraction: number): Split[] {
  const nVal = count > 1 ? Math.min(count - 1, Math.round(count * valFraction)) : 0;
  const order = new Rng(seed, 0x5911).shuffle(Array.from({ length: count }, (_, i) => i));
  const split: Split[] = new Array(count).fill('train');
  for (let j = 0; j < nVal; j++) split[order[j]] = 'val';
  return split;
}

export async function generateShapes(opts: GenerateShapesOptions): Promise<ShapesDataset> {
  const { w, h, classes } = checkOptions(opts);
  const root = resolve(opts.outDir);
  const imgDir = join(root, 'images');
  await mkdir(imgDir, { recursive: true });
  const format = opts.format ?? 'png';
  const geometry = opts.geometry ?? 'mask';
  const sceneOpts: SceneOptions = {
    width: w,
    height: h,
    classes,
    objects: opts.objectsPerImage ?? [1, 5],
    scale: opts.scale ?? [0.07, 0.24],
    minVisible: 0.4,
    noise: opts.noise ?? 4,
    overlap: 0.45,
  };
  const splits = shapesSplit(opts.count, opts.seed, opts.valFraction ?? DEMO_DEFAULTS.valFraction);
  const digits = Math.max(4, String(opts.count - 1).length);
  const images: DatasetImage[] = [];
  const annotations: DatasetAnnotation[] = [];
  const instances: ShapesInstance[] = [];
  const pending: Promise<unknown>[] = [];

  for (let i = 0; i < opts.count; i++) {
    const scene = renderScene(new Rng(opts.seed, i), sceneOpts);
    const key = `shapes-${String(i).padStart(digits, '0')}`;
    const fileName = `images/${key}.${format === 'png' ? 'png' : 'jpg'}`;
    const absPath = join(root, fileName);
    const img = sharp(scene.rgb, { raw: { width: w, height: h, channels: 3 } });
    pending.push((format === 'png' ? img.png({ compressionLevel: 6 }) : img.jpeg({ quality: 92 })).toFile(absPath));
    if (pending.length >= 8) await Promise.all(pending.splice(0));
    images.push({ key, fileName, absPath, width: w, height: h, split: splits[i] });
    for (const inst of scene.instances) {
      const rle = encodeMask(inst.mask, h, w);
      const { rings, holesDropped } = rleToPolygons(rle);
      const g: Geometry =
        geometry === 'mask'
          ? { kind: 'mask', rle }
          : geometry === 'polygon'
            ? { kind: 'polygon', rings }
            : { kind: 'box', x: inst.bbox[0], y: inst.bbox[1], w: inst.bbox[2], h: inst.bbox[3] };
      annotations.push({ imageKey: key, className: inst.cls, geometry: g, iscrowd: false });
      instances.push({ imageKey: key, className: inst.cls, bbox: inst.bbox, area: inst.area, rle, polygons: rings, holesDropped });
    }
  }
  await Promise.all(pending);

  const dataset: ShapesDataset = {
    root,
    images,
    classes: classes.map((name, k) => ({ name, color: SHAPE_CLASS_COLORS[name], sourceId: k + 1 })),
    annotations,
    issues: [],
    instances,
  };
  await writeFile(join(root, 'annotations.json'), JSON.stringify(toCoco(dataset)));
  return dataset;
}

/**
 * COCO form of the data. Segmentations are polygons when the outline is exact (no holes), else the RLE, so
 * pycocotools rasterises every one back to the same pixels. Images carry an extra "split" field.
 */
export function toCoco(ds: ShapesDataset): object {
  const imgId = new Map(ds.images.map((im, i) => [im.key, i + 1]));
  const catId = new Map(ds.classes.map((c, k) => [c.name, k + 1]));
  return {
    info: { description: 'HST Studio synthetic shapes demo', version: '1' },
    images: ds.images.map((im, i) => ({ id: i + 1, file_name: im.fileName, width: im.width, height: im.height, split: im.split })),
    categories: ds.classes.map((c, k) => ({ id: k + 1, name: c.name, supercategory: 'shape' })),
    annotations: ds.instances.map((inst, n) => ({
      id: n + 1,
      image_id: imgId.get(inst.imageKey),
      category_id: catId.get(inst.className),
      bbox: inst.bbox,
      area: inst.area,
      iscrowd: 0,
      segmentation: inst.holesDropped === 0 ? inst.polygons : inst.rle,
    })),
  };
}

/** The studio's embedded demo project data, written into `dir`. */
export function generateDemo(dir: string, overrides: Partial<Omit<GenerateShapesOptions, 'outDir'>> = {}): Promise<ShapesDataset> {
  return generateShapes({ ...DEMO_DEFAULTS, classes: [...DEMO_DEFAULTS.classes], ...overrides, outDir: dir });
}
