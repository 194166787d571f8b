// One image's neutral annotations → validated training instances, rasterised once per decoded image at the
// resolution of the kept base image (so per-sample work is only resampling). Every annotation that cannot
// be used is skipped with a warning naming the image and the annotation; nothing here throws on bad data.
import type { Geometry } from '../../contract/schemas';
import type { DatasetAnnotation } from '../datasets/types';
import { polygonToRaw, ringsBbox } from '../geometry/rasterize';
import { decodeMask, mergeRaw, toBbox } from '../geometry/rle';

/** A binary mask cropped to its bounding box, in base-image pixels. */
export interface MaskCrop {
  x0: number;
  y0: number;
  w: number;
  h: number;
  data: Uint8Array;
}

export interface PreparedInstance {
  /** training class index */
  label: number;
  /** box [x1, y1, x2, y2] in original pixels, clipped to the image */
  box: [number, number, number, number];
  mask: MaskCrop | null;
  crowd: boolean;
}

export interface AnnotationRef {
  ann: DatasetAnnotation;
  /** position in dataset.annotations, used when the annotation has no sourceId */
  index: number;
}

export interface InstanceContext {
  /** name used in warnings (the image's fileName) */
  imageName: string;
  origW: number;
  origH: number;
  baseW: number;
  baseH: number;
  classIndex: ReadonlyMap<string, number>;
}

export function annotationName(ref: AnnotationRef): string {
  return String(ref.ann.sourceId ?? ref.index);
}

export function prepareInstances(refs: readonly AnnotationRef[], ctx: InstanceContext): { instances: PreparedInstance[]; warnings: string[] } {
  const instances: PreparedInstance[] = [];
  const warnings: string[] = [];
  for (const ref of refs) {
    const warn = (what: string) => warnings.push(`image '${ctx.imageName}' annotation ${annotationName(ref)}: ${what}`);
    const label = ctx.classIndex.get(ref.ann.className);
    if (label === undefined) {
      warn(`class '${ref.ann.className}' is not among the training classes, skipped`);
      continue;
    }
    const inst = prepareOne(ref.ann.geometry, ctx, warn);
    if (inst) instances.push({ label, crowd: ref.ann.iscrowd === true, ...inst });
  }
  return { instances, warnings };
}

type Warn = (what: string) => void;

function prepareOne(g: Geometry | undefined, ctx: InstanceContext, warn: Warn): Omit<PreparedInstance, 'label' | 'crowd'> | null {
  if (!g || typeof g !== 'object') {
    warn('has no geometry, skipped');
    return null;
  }
  switch (g.kind) {
    case 'box':
      return prepareBox(g.x, g.y, g.w, g.h, ctx, warn);
    case 'polygon':
      return preparePolygon(g.rings, ctx, warn);
    case 'mask':
      return prepareMask(g.rle, ctx, warn);
    default:
      warn(`unknown geometry kind '${(g as { kind?: unknown }).kind}', skipped`);
      return null;
  }
}

function prepareBox(x: number, y: number, w: number, h: number, ctx: InstanceContext, warn: Warn) {
  if (![x, y, w, h].every(Number.isFinite)) {
    warn(`box with a non-finite coordinate (${x}, ${y}, ${w}, ${h}) skipped`);
    return null;
  }
  if (!(w > 0 && h > 0)) {
    warn(`box with zero or negative size ${w}×${h} skipped`);
    return null;
  }
  const box = clipBox([x, y, x + w, y + h], ctx);
  if (!box) {
    warn(`box (${x}, ${y}, ${w}×${h}) lies outside the ${ctx.origW}×${ctx.origH} image, skipped`);
    return null;
  }
  return { box, mask: null };
}

function preparePolygon(rings: readonly (readonly number[])[], ctx: InstanceContext, warn: Warn) {
  if (!Array.isArray(rings) || rings.length === 0) {
    warn('polygon without rings skipped');
    return null;
  }
  const good: number[][] = [];
  const bad: string[] = [];
  rings.forEach((ring, k) => {
    const n = Array.isArray(ring) ? ring.length : 0;
    if (!Array.isArray(ring) || !ring.every((v) => typeof v === 'number' && Number.isFinite(v))) bad.push(`ring ${k} has a non-finite coordinate`);
    else if (n % 2 !== 0) bad.push(`ring ${k} has an odd number of coordinates (${n})`);
    else if (n < 6) bad.push(`${rings.length > 1 ? `ring ${k} ` : ''}with ${n / 2} point${n === 2 ? '' : 's'}`);
    else good.push(ring as number[]);
  });
  if (good.length === 0) {
    warn(`polygon ${bad.join('; ')} skipped`);
    return null;
  }
  if (bad.length > 0) warn(`polygon ${bad.join('; ')}: ${bad.length === 1 ? 'that ring was' : 'those rings were'} dropped`);
  const sx = ctx.baseW / ctx.origW;
  const sy = ctx.baseH / ctx.origH;
  const scaled = sx === 1 && sy === 1 ? good : good.map((r) => r.map((v, i) => v * (i % 2 === 0 ? sx : sy)));
  const raws = scaled.map((r) => polygonToRaw(r, ctx.baseH, ctx.baseW));
  const full = decodeMask(raws.length === 1 ? raws[0] : mergeRaw(raws));
  const [bx, by, bw, bh] = ringsBbox(good);
  const box = clipBox([bx, by, bx + bw, by + bh], ctx);
  const mask = cropMask(full, ctx.baseW, ctx.baseH);
  if (!box || !mask) {
    warn(`polygon covers no pixel of the ${ctx.origW}×${ctx.origH} image, skipped`);
    return null;
  }
  return { box, mask };
}

function prepareMask(rle: { size: [number, number]; counts: string } | undefined, ctx: InstanceContext, warn: Warn) {
  if (!rle || !Array.isArray(rle.size)) {
    warn('mask without an RLE skipped');
    return null;
  }
  const [h, w] = rle.size;
  if (h !== ctx.origH || w !== ctx.origW) {
    warn(`mask of size ${w}×${h} differs from the ${ctx.origW}×${ctx.origH} image, skipped`);
    return null;
  }
  let full: Uint8Array;
  try {
    full = decodeMask(rle);
  } catch (e) {
    warn(`mask RLE is invalid (${e instanceof Error ? e.message : String(e)}), skipped`);
    return null;
  }
  const [bx, by, bw, bh] = toBbox(rle);
  if (bw === 0 || bh === 0) {
    warn('empty mask skipped');
    return null;
  }
  const box: [number, number, number, number] = [bx, by, bx + bw, by + bh];
  const base = ctx.baseW === w && ctx.baseH === h ? full : downsampleNearest(full, w, h, ctx.baseW, ctx.baseH);
  // an object thinner than a base pixel may vanish; the sample builder then drops it as invisible
  const mask = cropMask(base, ctx.baseW, ctx.baseH) ?? { x0: 0, y0: 0, w: 0, h: 0, data: new Uint8Array(0) };
  return { box, mask };
}

function clipBox(b: [number, number, number, number], ctx: InstanceContext): [number, number, number, number] | null {
  const x1 = Math.max(0, b[0]);
  const y1 = Math.max(0, b[1]);
  const x2 = Math.min(ctx.origW, b[2]);
  const y2 = Math.min(ctx.origH, b[3]);
  return x2 > x1 && y2 > y1 ? [x1, y1, x2, y2] : null;
}

function downsampleNearest(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh);
  const col = new Int32Array(dw);
  for (let x = 0; x < dw; x++) col[x] = Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / dw));
  for (let y = 0; y < dh; y++) {
    const row = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / dh)) * sw;
    for (let x = 0; x < dw; x++) out[y * dw + x] = src[row + col[x]];
  }
  return out;
}

/** Tight crop of a full-size binary mask, or null when it has no pixel set. */
export function cropMask(full: Uint8Array, w: number, h: number): MaskCrop | null {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      if (!full[row + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  if (x1 < 0) return null;
  const cw = x1 - x0 + 1;
  const ch = y1 - y0 + 1;
  const data = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) data.set(full.subarray((y0 + y) * w + x0, (y0 + y) * w + x0 + cw), y * cw);
  return { x0, y0, w: cw, h: ch, data };
}
