import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Geometry } from '../../../src-main/contract/schemas';
import { DEMO_DEFAULTS, SHAPE_CLASSES, generateShapes, shapesSplit } from '../../../src-main/core/demo/index';
import { decodeMask, toBbox } from '../../../src-main/core/geometry/rle';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hst-shapes-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Pixel-centre rasterisation of the union of rings (even-odd within each ring). */
function rasterRings(rings: number[][], h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (const ring of rings) {
    const n = ring.length / 2;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        let c = false;
        for (let i = 0, j = n - 1; i < n; j = i++) {
          const xi = ring[2 * i], yi = ring[2 * i + 1], xj = ring[2 * j], yj = ring[2 * j + 1];
          if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) c = !c;
        }
        if (c) out[y * w + x] = 1;
      }
    }
  }
  return out;
}

describe('shapes demo generator', () => {
  it('is deterministic: same seed gives identical files and annotations; another seed differs', async () => {
    const a = await generateShapes({ count: 5, size: 72, seed: 42, outDir: tmp() });
    const b = await generateShapes({ count: 5, size: 72, seed: 42, outDir: tmp() });
    const c = await generateShapes({ count: 5, size: 72, seed: 43, outDir: tmp() });
    expect(a.images.map((i) => sha(i.absPath!))).toEqual(b.images.map((i) => sha(i.absPath!)));
    expect(JSON.stringify(a.annotations)).toBe(JSON.stringify(b.annotations));
    expect(sha(join(a.root, 'annotations.json'))).toBe(sha(join(b.root, 'annotations.json')));
    expect(a.images.map((i) => sha(i.absPath!))).not.toEqual(c.images.map((i) => sha(i.absPath!)));
    // each image depends only on (seed, index): a shorter set is a prefix of a longer one
    const d = await generateShapes({ count: 2, size: 72, seed: 42, outDir: tmp() });
    expect(d.images.map((i) => sha(i.absPath!))).toEqual(a.images.slice(0, 2).map((i) => sha(i.absPath!)));
  });

  it('writes decodable images of the requested size, PNG or JPEG', async () => {
    const ds = await generateShapes({ count: 2, size: [96, 64], seed: 1, outDir: tmp() });
    for (const im of ds.images) {
      const m = await sharp(im.absPath!).metadata();
      expect([m.format, m.width, m.height, m.channels]).toEqual(['png', 96, 64, 3]);
      expect([im.width, im.height]).toEqual([96, 64]);
    }
    const jp = await generateShapes({ count: 1, size: 64, seed: 1, outDir: tmp(), format: 'jpeg' });
    expect(jp.images[0].fileName).toMatch(/\.jpg$/);
    expect((await sharp(jp.images[0].absPath!).metadata()).format).toBe('jpeg');
  });

  it('gives masks whose tight box is the box, disjoint within an image, and polygons that trace them', async () => {
    const ds = await generateShapes({ count: 24, size: 80, seed: 7, outDir: tmp() });
    expect(ds.instances.length).toBe(ds.annotations.length);
    expect(ds.instances.length).toBeGreaterThan(24);
    const byImage = new Map<string, Uint8Array>();
    let withHoles = 0;
    for (const inst of ds.instances) {
      const [h, w] = inst.rle.size;
      expect([h, w]).toEqual([80, 80]);
      const m = decodeMask(inst.rle);
      let area = 0;
      let x0 = w, y0 = h, x1 = -1, y1 = -1;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (m[y * w + x]) {
        area++;
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
      expect(area).toBe(inst.area);
      expect(area).toBeGreaterThanOrEqual(12);
      expect(inst.bbox).toEqual([x0, y0, x1 - x0 + 1, y1 - y0 + 1]);
      expect(toBbox(inst.rle)).toEqual(inst.bbox);
      // no pixel belongs to two objects
      const seen = byImage.get(inst.imageKey) ?? new Uint8Array(h * w);
      let shared = 0;
      for (let p = 0; p < m.length; p++) {
        if (m[p] && seen[p]) shared++;
        seen[p] |= m[p];
      }
      expect(shared).toBe(0);
      byImage.set(inst.imageKey, seen);
      // polygons: exact for masks without holes, a superset (holes filled) otherwise
      const r = rasterRings(inst.polygons, h, w);
      if (inst.holesDropped === 0) expect(Buffer.from(r).equals(Buffer.from(m))).toBe(true);
      else {
        withHoles++;
        let lost = 0;
        for (let p = 0; p < m.length; p++) if (m[p] && !r[p]) lost++;
        expect(lost).toBe(0);
      }
    }
    expect(withHoles).toBeLessThan(ds.instances.length / 4);
  });

  it('annotations validate against the contract in every geometry form', async () => {
    for (const geometry of ['mask', 'polygon', 'box'] as const) {
      const ds = await generateShapes({ count: 3, size: 64, seed: 3, outDir: tmp(), geometry });
      for (const a of ds.annotations) {
        expect(a.geometry.kind).toBe(geometry);
        expect(() => Geometry.parse(a.geometry)).not.toThrow();
        expect(ds.classes.map((c) => c.name)).toContain(a.className);
        expect(ds.images.map((i) => i.key)).toContain(a.imageKey);
      }
      if (geometry === 'box') {
        ds.annotations.forEach((a, n) => {
          const g = a.geometry as { x: number; y: number; w: number; h: number };
          expect([g.x, g.y, g.w, g.h]).toEqual(ds.instances[n].bbox);
        });
      }
    }
  });

  it('writes a COCO annotations.json that matches the dataset', async () => {
    const ds = await generateShapes({ count: 4, size: 64, seed: 5, outDir: tmp() });
    const coco = JSON.parse(readFileSync(join(ds.root, 'annotations.json'), 'utf8'));
    expect(coco.categories.map((c: { name: string }) => c.name)).toEqual([...DEMO_DEFAULTS.classes]);
    expect(coco.images).toHaveLength(4);
    expect(coco.annotations).toHaveLength(ds.instances.length);
    coco.annotations.forEach((a: { bbox: number[]; area: number; image_id: number; category_id: number }, n: number) => {
      expect(a.bbox).toEqual(ds.instances[n].bbox);
      expect(a.area).toBe(ds.instances[n].area);
      expect(coco.images[a.image_id - 1].file_name).toBe(ds.images.find((i) => i.key === ds.instances[n].imageKey)!.fileName);
      expect(coco.categories[a.category_id - 1].name).toBe(ds.instances[n].className);
    });
  });

  it('balances classes and honours a class subset', async () => {
    const ds = await generateShapes({ count: 60, size: 64, seed: 11, outDir: tmp() });
    const counts = DEMO_DEFAULTS.classes.map((c) => ds.annotations.filter((a) => a.className === c).length);
    const mean = counts.reduce((s, v) => s + v, 0) / counts.length;
    for (const n of counts) expect(Math.abs(n - mean) / mean).toBeLessThan(0.2);
    const sub = await generateShapes({ count: 10, size: 64, seed: 11, outDir: tmp(), classes: ['star', 'circle'] });
    expect(new Set(sub.annotations.map((a) => a.className))).toEqual(new Set(['star', 'circle']));
    expect(sub.classes.map((c) => c.name)).toEqual(['star', 'circle']);
  });

  it('splits deterministically with the requested val share', async () => {
    const s = shapesSplit(50, 9, 0.2);
    expect(s.filter((x) => x === 'val')).toHaveLength(10);
    expect(shapesSplit(50, 9, 0.2)).toEqual(s);
    expect(shapesSplit(50, 10, 0.2)).not.toEqual(s);
    expect(shapesSplit(1, 9, 0.2)).toEqual(['train']);
    const ds = await generateShapes({ count: 10, size: 64, seed: 9, outDir: tmp(), valFraction: 0.3 });
    expect(ds.images.filter((i) => i.split === 'val')).toHaveLength(3);
    expect(ds.images.filter((i) => i.split === 'train')).toHaveLength(7);
  });

  it('rejects bad options with a sentence', async () => {
    await expect(generateShapes({ count: 0, size: 64, seed: 1, outDir: tmp() })).rejects.toThrow(/count must be/);
    await expect(generateShapes({ count: 1, size: 16, seed: 1, outDir: tmp() })).rejects.toThrow(/width must be .* got 16/);
    await expect(generateShapes({ count: 1, size: 64, seed: 1, outDir: tmp(), classes: ['hexagon' as never] })).rejects.toThrow(/unknown class 'hexagon'/);
    expect(SHAPE_CLASSES.length).toBeGreaterThanOrEqual(3);
  });
});
