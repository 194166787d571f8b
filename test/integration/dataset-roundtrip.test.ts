// COCO → project store → COCO through the CLI commands, plus an import that must change nothing.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { importCommand } from '../../src-main/cli/commands/import';
import { exportDatasetCommand } from '../../src-main/cli/commands/export-dataset';
import { createProject, openProject } from '../../src-main/core/store/project';
import { encodeMask, encodeMaskRaw, area, toBbox } from '../../src-main/core/geometry/rle';
import { polygonsToRle, ringsBbox } from '../../src-main/core/geometry/rasterize';
import { tempDir, writeImage, writeText } from '../core/datasets/fixtures';

let dir: string;
let cleanup: () => Promise<void>;
let out: string[];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('hst-rt-'));
  out = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a) => void out.push(a.join(' ')));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

const H = 12;
const W = 16;
function blob(x0: number, y0: number, x1: number, y1: number) {
  const m = new Uint8Array(H * W);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = 1;
  return m;
}

async function cocoSource() {
  const rle = encodeMask(blob(2, 3, 9, 10), H, W);
  const raw = encodeMaskRaw(blob(5, 0, 7, 12), H, W);
  const rings = [[1, 1, 6, 1, 6, 5, 1, 5], [8.5, 6.25, 14, 6, 12, 11]];
  const coco = {
    images: [
      { id: 10, file_name: 'ünï cödé/pic one.jpg', width: W, height: H },
      { id: 42, file_name: 'empty.png', width: W, height: H },
      { id: 7, file_name: 'b.jpg', width: W, height: H },
    ],
    categories: [{ id: 90, name: 'zebra' }, { id: 3, name: 'car' }, { id: 17, name: 'größe' }],
    annotations: [
      { id: 1001, image_id: 10, category_id: 3, bbox: [1.5, 2.25, 4, 3], area: 12, iscrowd: 0, segmentation: [] },
      { id: 1002, image_id: 10, category_id: 90, segmentation: rings, area: area(polygonsToRle(rings, H, W)), bbox: ringsBbox(rings), iscrowd: 0 },
      { id: 1003, image_id: 7, category_id: 17, segmentation: rle, area: area(rle), bbox: toBbox(rle), iscrowd: 1 },
      { id: 1004, image_id: 7, category_id: 3, segmentation: raw, area: area(raw), bbox: toBbox(raw), iscrowd: 1 },
      { id: 1005, image_id: 7, category_id: 90, bbox: [0, 0, 3, 3], area: 9, iscrowd: 0, segmentation: [], score: 0.75 },
    ],
  };
  // distinct pixel content per image (the store merges identical files)
  await writeImage(path.join(dir, 'src/images/ünï cödé/pic one.jpg'), W, H);
  await writeImage(path.join(dir, 'src/images/empty.png'), W, H);
  await writeImage(path.join(dir, 'src/images/b.jpg'), W, H, { orientation: 1 });
  await writeText(path.join(dir, 'src/annotations.json'), JSON.stringify(coco));
  return { coco, json: path.join(dir, 'src/annotations.json'), raw, rings };
}

describe('COCO → store → COCO', () => {
  it('gives back the same annotations, RLE bit-exact, category and annotation ids kept', async () => {
    const { coco, json } = await cocoSource();
    createProject(path.join(dir, 'proj')).close();
    expect(await importCommand.run([path.join(dir, 'proj'), '--format', 'coco', json])).toBe(0);
    expect(out.join('\n')).toMatch(/imported 3 image\(s\), 5 annotation\(s\), 3 new class\(es\)/);
    const code = await exportDatasetCommand.run([path.join(dir, 'proj'), '--format', 'coco', path.join(dir, 'out')]);
    expect(code).toBe(0);
    const back = JSON.parse(await readFile(path.join(dir, 'out/annotations/instances_train.json'), 'utf8'));

    // the store numbers images itself: compare through file names
    const srcName = new Map(coco.images.map((i) => [i.id, i.file_name]));
    const backName = new Map<number, string>(back.images.map((i: { id: number; file_name: string }) => [i.id, i.file_name]));
    expect([...backName.values()].sort()).toEqual([...srcName.values()].sort());
    expect(back.categories).toEqual(expect.arrayContaining(coco.categories));
    expect(back.categories).toHaveLength(3);
    const norm = (a: Record<string, unknown>, names: Map<number, string>): Record<string, unknown> & { id: number } => {
      const seg = a.segmentation as { counts?: unknown; size?: unknown };
      const segmentation = seg && Array.isArray(seg.counts) ? encodeMask(blob(5, 0, 7, 12), H, W) : a.segmentation;
      return { ...a, id: a.id as number, image_id: names.get(a.image_id as number), segmentation };
    };
    const expected = coco.annotations.map((a) => norm(a, srcName)).sort((p, q) => (p.id as number) - (q.id as number));
    const got = back.annotations.map((a: Record<string, unknown>) => norm(a, backName)).sort((p: { id: number }, q: { id: number }) => p.id - q.id);
    expect(got).toEqual(expected);
    // images were copied into the export
    for (const n of backName.values()) await expect(readFile(path.join(dir, 'out/images/train', n))).resolves.toBeInstanceOf(Buffer);
  });

  it('exports the project as YOLO and VOC with conversion notes, and a chosen split only', async () => {
    const { json } = await cocoSource();
    createProject(path.join(dir, 'proj')).close();
    expect(await importCommand.run([path.join(dir, 'proj'), '--format', 'coco', json, '--link'])).toBe(0);
    out.length = 0;
    expect(await exportDatasetCommand.run([path.join(dir, 'proj'), '--format', 'yolo', path.join(dir, 'y')])).toBe(0);
    expect(out.join('\n')).toMatch(/converted: 2 RLE masks converted to polygons \(YOLO has no RLE\)/);
    out.length = 0;
    expect(await exportDatasetCommand.run([path.join(dir, 'proj'), '--format', 'voc', path.join(dir, 'v'), '--split', 'val'])).toBe(0);
    expect(out.join('\n')).toMatch(/exported 0 image\(s\)/);
    await expect(exportDatasetCommand.run([path.join(dir, 'proj'), '--format', 'tfrecord', path.join(dir, 'x')])).rejects.toThrow(/--format must be one of coco, yolo, voc, labelme/);
    await expect(exportDatasetCommand.run([path.join(dir, 'proj'), '--format', 'coco', path.join(dir, 'x'), '--split', 'dev'])).rejects.toThrow(/unknown split 'dev'/);
  });

  it('a dataset with errors changes nothing in the project and prints file: record: message', async () => {
    const { coco, json } = await cocoSource();
    (coco.annotations[4] as Record<string, unknown>).category_id = 5;
    (coco.images[2] as Record<string, unknown>).file_name = '../../etc/passwd';
    await writeFile(json, JSON.stringify(coco));
    const p = createProject(path.join(dir, 'proj'));
    const before = p.revision();
    p.close();
    expect(await importCommand.run([path.join(dir, 'proj'), '--format', 'coco', json])).toBe(1);
    const text = out.join('\n');
    expect(text).toMatch(/error: annotations\.json: images\[2\] \(id 7\): file_name: path '..\/..\/etc\/passwd' leaves the dataset root/);
    expect(text).toMatch(/error: annotations\.json: annotations\[4\] \(id 1005\): category_id 5 is not declared/);
    expect(text).toMatch(/nothing was imported/);
    const q = openProject(path.join(dir, 'proj'));
    expect(q.revision()).toBe(before);
    expect(q.listImages().total).toBe(0);
    expect(q.listClasses()).toEqual([]);
    q.close();
  });

  it('a file that contradicts the JSON fails in the store and leaves the project unchanged', async () => {
    const { coco, json } = await cocoSource();
    coco.images[1].width = 99; // the file is 16 wide
    await writeFile(json, JSON.stringify(coco));
    createProject(path.join(dir, 'proj')).close();
    expect(await importCommand.run([path.join(dir, 'proj'), '--format', 'coco', json])).toBe(1);
    expect(out.join('\n')).toMatch(/empty\.png.*99/);
    const q = openProject(path.join(dir, 'proj'));
    expect([q.revision(), q.listImages().total, q.listClasses().length]).toEqual([0, 0, 0]);
    q.close();
    const media = await readdir(path.join(dir, 'proj', 'media'), { recursive: true });
    expect(media.filter((f) => /\.(jpe?g|png)$/i.test(String(f)))).toEqual([]);
  });

  it('imports a plain image folder and detects formats when --format is left out', async () => {
    await writeImage(path.join(dir, 'pics/a b.png'), 5, 4);
    createProject(path.join(dir, 'proj')).close();
    expect(await importCommand.run([path.join(dir, 'proj'), path.join(dir, 'pics')])).toBe(0);
    expect(out.join('\n')).toMatch(/format: images \(detected\)[\s\S]*imported 1 image\(s\)/);
    await writeImage(path.join(dir, 'pics2/c.png'), 6, 4);
    expect(await importCommand.run([path.join(dir, 'proj'), '--format', 'images', path.join(dir, 'pics2'), '--split', 'val'])).toBe(0);
    const { json } = await cocoSource();
    expect(await importCommand.run([path.join(dir, 'proj'), '--format', 'coco', json, '--split', 'test'])).toBe(0);
    const p = openProject(path.join(dir, 'proj'));
    expect([p.listImages({ split: 'train' }).total, p.listImages({ split: 'val' }).total, p.listImages({ split: 'test' }).total]).toEqual([1, 1, 3]);
    p.close();
    await expect(importCommand.run([path.join(dir, 'proj'), path.join(dir, 'pics'), '--split', 'dev'])).rejects.toThrow(/unknown split 'dev'/);
    await expect(importCommand.run([path.join(dir, 'proj'), '--format', 'coco', path.join(dir, 'pics'), '--copy', '--link'])).rejects.toThrow(/one of --copy and --link/);
  });
});
