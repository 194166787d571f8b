// Flags, custom attributes, class attribute definitions and image tags through a whole store → format → store
// trip for every format that carries them (COCO, VOC, LabelMe), and what YOLO says it drops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Annotation, LabelClass } from '../../src-main/contract/schemas';
import { readDataset } from '../../src-main/core/datasets/read-dataset';
import { writeDataset, type ExportFormat } from '../../src-main/core/datasets/write-dataset';
import { createProject, type SqliteProjectStore } from '../../src-main/core/store/project';

let root: string;
let src: SqliteProjectStore;
const car: LabelClass = { id: 1, name: 'car', color: '#ff0000', hotkey: null, order: 0, attributes: [{ name: 'color', type: 'select', options: ['blue', 'red'] }] };

const shape = (id: string, imageId: number, x: number, extra: Partial<Annotation>): Annotation => ({
  id, imageId, classId: 1, geometry: { kind: 'box', x, y: 4, w: 10, h: 8 }, source: 'human', score: null, modelVersion: null, createdAt: x, updatedAt: x, ...extra,
});

/** What survives a trip, per image file name: shapes' flags and attributes (by position) and tags. */
function summary(s: SqliteProjectStore) {
  return s.listImages({ sort: 'fileName' }).items.map((im) => ({
    file: im.fileName.replace(/^.*\//, ''),
    tags: im.tags ?? [],
    shapes: s.annotationsOf(im.id).sort((a, b) => (a.geometry as { x: number }).x - (b.geometry as { x: number }).x).map((a) => ({ flags: a.flags ?? {}, attributes: a.attributes ?? {} })),
  }));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hst-attr-rt-'));
  src = createProject(join(root, 'src'));
  for (const [i, c] of [[0, 40], [1, 160]] as const) {
    const file = join(root, `photo${i}.png`);
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: c, g: 90, b: 200 - c } } }).png().toFile(file);
  }
  const r = await src.ingest([join(root, 'photo0.png'), join(root, 'photo1.png')]);
  const [a, b] = r.added.map((im) => im.id);
  src.apply({ classes: { created: [car], updated: [], deleted: [] } });
  src.apply({
    created: [
      shape('s1', a, 2, { flags: { occluded: true, truncated: true }, attributes: { color: 'blue' } }),
      shape('s2', a, 20, { flags: { difficult: true } }),
      shape('s3', b, 30, { attributes: { color: 'red' } }),
    ],
    tags: { added: [{ imageId: a, tag: 'night' }, { imageId: a, tag: 'rain' }, { imageId: b, tag: 'day' }], removed: [] },
  });
});
afterAll(() => {
  src.close();
  rmSync(root, { recursive: true, force: true });
});

const full = [
  { file: 'photo0.png', tags: ['night', 'rain'], shapes: [{ flags: { occluded: true, truncated: true }, attributes: { color: 'blue' } }, { flags: { difficult: true }, attributes: {} }] },
  { file: 'photo1.png', tags: ['day'], shapes: [{ flags: {}, attributes: { color: 'red' } }] },
];

describe('store → format → store keeps flags, attributes and tags', () => {
  it.each([
    ['coco', full],
    ['labelme', full],
    // VOC has no image-level labels: tags are dropped, and the export says so
    ['voc', full.map((im) => ({ ...im, tags: [] }))],
  ] as const)('%s', async (format, expected) => {
    expect(summary(src)).toEqual(full);
    const out = join(root, `out-${format}`);
    const report = await writeDataset(format as ExportFormat, src.toDataset(), out);
    if (format === 'voc') expect(report.dropped).toContain('image tags of 2 images (VOC has no image-level labels)');
    const dst = createProject(join(root, `dst-${format}`));
    try {
      const ds = await readDataset(format, out /* COCO: the folder of instances_<split>.json */);
      expect(ds.issues.filter((i) => i.level === 'error')).toEqual([]);
      await dst.importDataset(ds);
      expect(summary(dst)).toEqual(expected);
      // the class gets a definition for the attribute its shapes carry (a select of the values seen)
      expect(dst.listClasses()[0].attributes).toEqual([{ name: 'color', type: 'select', options: ['blue', 'red'] }]);
    } finally {
      dst.close();
    }
  });

  it('yolo carries none of them and says what it drops', async () => {
    const report = await writeDataset('yolo', src.toDataset(), join(root, 'out-yolo'));
    expect(report.dropped.join('\n')).toMatch(/flags and attributes of 3 annotations/);
    expect(report.dropped.join('\n')).toMatch(/image tags of 2 images/);
  });
});
