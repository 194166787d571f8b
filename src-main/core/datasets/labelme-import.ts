// LabelMe JSON (one file per image) → neutral Dataset. Shapes: rectangle → box, polygon → polygon, mask → RLE
// (LabelMe stores a base64 PNG of the crop between its two corner points, inclusive). Shapes sharing a label and a
// group_id are one object, as LabelMe's own converters treat them; circles become polygons the way labelme2coco
// draws them, and `__ignore__` shapes are dropped as labelme2coco does. Other shape types are reported and
// skipped. A file whose image is missing but embedded (imageData) imports the embedded image.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import type { Geometry } from '../../contract/schemas';
import { encodeMask, merge } from '../geometry/rle';
import { polygonsToRle } from '../geometry/rasterize';
import { splitAttributes } from './attributes';
import { exists, imageSize } from './image-files';
import { IssueList, formatZodIssues } from './issues';
import { parseJsonText } from './read-json';
import { resolveInside } from './safe-path';
import type { Dataset, DatasetAnnotation, DatasetClass, DatasetImage } from './types';

const Point = z.tuple([z.number().finite(), z.number().finite()]);
const Shape = z.object({
  label: z.string().min(1),
  points: z.array(Point),
  shape_type: z.string().optional(),
  group_id: z.number().int().nullable().optional(),
  mask: z.string().nullable().optional(),
  /** per-shape checkboxes (labelme --flags): occluded/truncated/difficult/crowd are our flags, others attributes */
  flags: z.record(z.string(), z.unknown()).nullable().optional(),
  /** not labelme's: non-boolean attributes as this studio writes them */
  attributes: z.record(z.string(), z.unknown()).nullable().optional(),
});
const LabelmeFile = z.object({
  shapes: z.array(z.unknown()),
  /** image-level checkboxes: the ones set are the image's tags */
  flags: z.record(z.string(), z.unknown()).nullable().optional(),
  imagePath: z.string().min(1),
  imageData: z.string().nullable().optional(),
  imageHeight: z.number().int().nonnegative().nullable().optional(),
  imageWidth: z.number().int().nonnegative().nullable().optional(),
});

/** `p` is a folder (all *.json below it) or one JSON file; image paths must stay inside that folder. */
export async function importLabelme(p: string): Promise<Dataset> {
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new Error(`${p}: no such file or folder`);
  const root = st.isDirectory() ? abs : path.dirname(abs);
  const files = st.isDirectory() ? await listJson(abs) : [abs];
  if (files.length === 0) throw new Error(`${p}: no LabelMe .json files found`);
  const issues = new IssueList();
  const images: DatasetImage[] = [];
  const classes: DatasetClass[] = [];
  const classSet = new Set<string>();
  const annotations: DatasetAnnotation[] = [];
  const seen = new Map<string, string>();
  const skippedTypes = new Map<string, number>();
  let foreignPaths = 0;
  let usedEmbedded = 0;
  let ignored = 0;

  for (const f of files) {
    const file = path.relative(root, f).split(path.sep).join('/');
    let json: unknown;
    try {
      json = parseJsonText(await readFile(f, 'utf8'), file);
    } catch (err) {
      issues.error(file, undefined, (err as Error).message.replace(`${file}: `, ''));
      continue;
    }
    const r = LabelmeFile.safeParse(json);
    if (!r.success) {
      // other JSON (a COCO file, a config) in the folder is not LabelMe: say so and go on
      if (!json || typeof json !== 'object' || !('shapes' in json)) issues.warn(file, undefined, 'not a LabelMe file (no shapes); skipped');
      else issues.error(file, undefined, formatZodIssues(r.error.issues));
      continue;
    }
    const lm = r.data;
    const jsonDirRel = path.relative(root, path.dirname(f));
    const imagePath = lm.imagePath.replace(/\\/g, '/');
    const absolute = path.isAbsolute(imagePath) || /^[A-Za-z]:\//.test(imagePath);
    let resolved = absolute ? resolveInside(root, imagePath) : resolveInside(root, path.posix.join(jsonDirRel.split(path.sep).join('/'), imagePath));
    if (!resolved.ok && absolute) {
      // an absolute path from the labeller's computer: look beside the JSON instead
      foreignPaths++;
      resolved = resolveInside(root, path.posix.join(jsonDirRel.split(path.sep).join('/'), path.posix.basename(imagePath)));
    }
    if (!resolved.ok) {
      issues.error(file, 'imagePath', resolved.reason);
      continue;
    }
    if (seen.has(resolved.rel)) {
      issues.warn(file, 'imagePath', `image ${resolved.rel} is already labelled by ${seen.get(resolved.rel)}; skipped`);
      continue;
    }
    seen.set(resolved.rel, file);
    const found = await exists(resolved.abs);
    let embedded: Buffer | undefined;
    if (!found && lm.imageData) {
      embedded = Buffer.from(lm.imageData, 'base64');
      usedEmbedded++;
    } else if (!found) issues.warn(file, 'imagePath', `image file not found: ${resolved.abs}`);
    let W = lm.imageWidth ?? 0;
    let H = lm.imageHeight ?? 0;
    if (!(W > 0 && H > 0) && (found || embedded)) {
      const s = await imageSize(found ? resolved.abs : embedded!);
      if (!('error' in s)) ({ width: W, height: H } = s);
    }
    const img: DatasetImage = { key: resolved.rel, fileName: resolved.rel, absPath: found ? resolved.abs : null, width: W, height: H };
    if (embedded) img.data = embedded;
    const tags = Object.entries(lm.flags ?? {}).filter(([k, v]) => v === true && k.trim()).map(([k]) => k.trim());
    if (tags.length) img.tags = tags;
    images.push(img);

    const objects: { label: string; group: string | null; geometry: Geometry; index: number; extra: Partial<DatasetAnnotation> }[] = [];
    for (let i = 0; i < lm.shapes.length; i++) {
      const rec = `shapes[${i}]`;
      const s = Shape.safeParse(lm.shapes[i]);
      if (!s.success) {
        issues.error(file, rec, formatZodIssues(s.error.issues));
        continue;
      }
      const sh = s.data;
      if (sh.label === '__ignore__') {
        ignored++;
        continue;
      }
      const type = sh.shape_type ?? 'polygon';
      const g = await shapeGeometry(type, sh, W, H);
      if (g === null) {
        skippedTypes.set(type, (skippedTypes.get(type) ?? 0) + 1);
        continue;
      }
      if ('error' in g) {
        issues.error(file, `${rec} (${sh.label})`, g.error);
        continue;
      }
      const { crowd, iscrowd, ...named } = { ...sh.flags, ...sh.attributes };
      const extra: Partial<DatasetAnnotation> = splitAttributes(named, (name, why) => issues.warn(file, `${rec} (${sh.label}) flag '${name.slice(0, 80)}'`, `not kept: ${why}`));
      if (crowd === true || iscrowd === true) extra.iscrowd = true;
      objects.push({ label: sh.label, group: sh.group_id == null ? null : `${sh.label}\u0000${sh.group_id}`, geometry: g.geometry, index: i, extra });
    }
    for (const o of groupObjects(objects, W, H, file, issues)) {
      if (!classSet.has(o.label)) {
        classSet.add(o.label);
        classes.push({ name: o.label });
      }
      annotations.push({ imageKey: img.key, className: o.label, geometry: o.geometry, sourceId: `${file}#${o.index}`, ...o.extra });
    }
  }
  for (const [t, n] of skippedTypes) issues.warn('*.json', undefined, `${n} '${t}' shape(s) skipped (only rectangle, polygon, circle and mask are imported)`);
  if (ignored) issues.warn('*.json', undefined, `${ignored} '__ignore__' shape(s) dropped, as labelme2coco does`);
  if (usedEmbedded) issues.warn('*.json', 'imageData', `${usedEmbedded} image(s) not found as files were taken from the JSON's embedded imageData`);
  if (foreignPaths) issues.warn('*.json', 'imagePath', `${foreignPaths} imagePath(s) are absolute paths from another computer; the images were looked for beside their JSON`);
  return { images, classes, annotations, issues: issues.items };
}

async function listJson(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.toLowerCase().endsWith('.json')) out.push(path.join(e.parentPath ?? dir, e.name));
  }
  return out.sort();
}

type ShapeResult = { geometry: Geometry } | { error: string } | null;

async function shapeGeometry(type: string, sh: z.infer<typeof Shape>, W: number, H: number): Promise<ShapeResult> {
  const pts = sh.points;
  if (type === 'rectangle') {
    if (pts.length !== 2) return { error: `rectangle needs 2 points, has ${pts.length}` };
    const [[x1, y1], [x2, y2]] = pts;
    return { geometry: { kind: 'box', x: Math.min(x1, x2), y: Math.min(y1, y2), w: Math.abs(x2 - x1), h: Math.abs(y2 - y1) } };
  }
  if (type === 'polygon') {
    if (pts.length < 3) return { error: `polygon has ${pts.length} points; at least 3 are needed` };
    return { geometry: { kind: 'polygon', rings: [pts.flat()] } };
  }
  if (type === 'circle') {
    if (pts.length !== 2) return { error: `circle needs 2 points (centre and a point on it), has ${pts.length}` };
    return { geometry: { kind: 'polygon', rings: [circlePolygon(pts[0], pts[1])] } };
  }
  if (type === 'mask') {
    if (!sh.mask) return { error: 'mask shape without mask data' };
    if (pts.length !== 2) return { error: `mask needs 2 corner points, has ${pts.length}` };
    if (!(W > 0 && H > 0)) return { error: 'mask shape on an image of unknown size' };
    let data: Buffer;
    let info: sharp.OutputInfo;
    try {
      ({ data, info } = await sharp(Buffer.from(sh.mask, 'base64')).raw().toBuffer({ resolveWithObject: true }));
    } catch (err) {
      return { error: `mask is not a readable base64 PNG (${(err as Error).message})` };
    }
    const x0 = Math.round(Math.min(pts[0][0], pts[1][0]));
    const y0 = Math.round(Math.min(pts[0][1], pts[1][1]));
    const full = new Uint8Array(W * H);
    let outside = 0;
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        if (!data[(y * info.width + x) * info.channels]) continue;
        const X = x0 + x;
        const Y = y0 + y;
        if (X < 0 || Y < 0 || X >= W || Y >= H) outside++;
        else full[Y * W + X] = 1;
      }
    }
    if (outside && outside === info.width * info.height) return { error: 'mask lies outside the image' };
    return { geometry: { kind: 'mask', rle: encodeMask(full, H, W) } };
  }
  return null;
}

/**
 * A circle as labelme2coco draws it: n points on the circle, n chosen so that the gap between arc and chord stays
 * under a pixel (r(1 - cos(π/n)) < 1), at least 12.
 */
export function circlePolygon([cx, cy]: [number, number], [px, py]: [number, number]): number[] {
  const r = Math.hypot(px - cx, py - cy);
  const n = Math.max(Math.floor(Math.PI / Math.acos(1 - 1 / r)) || 0, 12);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(cx + r * Math.sin((2 * Math.PI * i) / n), cy + r * Math.cos((2 * Math.PI * i) / n));
  return out;
}

/** Shapes with the same label and group_id become one object: polygons keep their rings, anything else is unioned as a mask. */
function groupObjects<T extends { label: string; group: string | null; geometry: Geometry; index: number }>(
  objects: T[],
  W: number,
  H: number,
  file: string,
  issues: IssueList,
): T[] {
  const out: T[] = [];
  const groups = new Map<string, T[]>();
  for (const o of objects) {
    if (o.group === null) out.push(o);
    else {
      const g = groups.get(o.group);
      if (g) g.push(o);
      else {
        groups.set(o.group, [o]);
        out.push(o); // placeholder keeps the first shape's position
      }
    }
  }
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const first = members[0];
    if (members.every((m) => m.geometry.kind === 'polygon')) {
      first.geometry = { kind: 'polygon', rings: members.flatMap((m) => (m.geometry.kind === 'polygon' ? m.geometry.rings : [])) };
    } else if (W > 0 && H > 0) {
      const rles = members.map((m) =>
        m.geometry.kind === 'mask'
          ? m.geometry.rle
          : m.geometry.kind === 'polygon'
            ? polygonsToRle(m.geometry.rings, H, W)
            : polygonsToRle([[m.geometry.x, m.geometry.y, m.geometry.x + m.geometry.w, m.geometry.y, m.geometry.x + m.geometry.w, m.geometry.y + m.geometry.h, m.geometry.x, m.geometry.y + m.geometry.h]], H, W),
      );
      first.geometry = { kind: 'mask', rle: merge(rles) };
    } else {
      issues.warn(file, `shapes[${first.index}]`, 'group mixes shape types on an image of unknown size; imported as separate objects');
      out.push(...members.slice(1));
    }
  }
  return out;
}
