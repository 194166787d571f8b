// Pascal VOC as labelImg, CVAT and the VOC devkit really lay it out (our own small fixtures).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importVoc } from '../../../src-main/core/datasets/voc-import';
import { detectFormat } from '../../../src-main/core/datasets/detect-format';
import { encodePalettePng, vocColormap } from '../../../src-main/core/datasets/png-palette';
import { decodeMask } from '../../../src-main/core/geometry/rle';
import { tempDir, writeImage, writeText } from './fixtures';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('hst-vl-')));
afterEach(async () => cleanup());

/** What labelImg saves: folder, filename, a path on the labeller's disk, size, objects. */
const labelImgXml = (file: string, objects: string, abs = `C:\\Users\\ann\\Pictures\\${file}`) =>
  `<annotation>\n\t<folder>images</folder>\n\t<filename>${file}</filename>\n\t<path>${abs}</path>\n\t<source>\n\t\t<database>Unknown</database>\n\t</source>\n` +
  `\t<size>\n\t\t<width>20</width>\n\t\t<height>10</height>\n\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n${objects}</annotation>\n`;
const obj = (name: string, b: number[], extra = '') =>
  `\t<object>\n\t\t<name>${name}</name>\n\t\t<pose>Unspecified</pose>\n${extra}\t\t<bndbox>\n\t\t\t<xmin>${b[0]}</xmin>\n\t\t\t<ymin>${b[1]}</ymin>\n\t\t\t<xmax>${b[2]}</xmax>\n\t\t\t<ymax>${b[3]}</ymax>\n\t\t</bndbox>\n\t</object>\n`;

describe('labelImg VOC', () => {
  it('XML in annots/ beside images/: detected, images found by <filename>, foreign <path> ignored with one note', async () => {
    await writeImage(path.join(dir, 'images/cat1.jpg'), 20, 10);
    await writeImage(path.join(dir, 'images/cat2.jpg'), 20, 10);
    await writeText(path.join(dir, 'annots/cat1.xml'), labelImgXml('cat1.jpg', obj('cat', [1, 1, 10, 5])));
    await writeText(path.join(dir, 'annots/cat2.xml'), labelImgXml('cat2.jpg', obj('cat', [2, 2, 8, 8]), '/home/bob/data/cat2.jpg'));
    expect(await detectFormat(dir)).toBe('voc'); // not 'images': the labels must not be dropped
    const ds = await importVoc(dir);
    expect(ds.images.map((i) => [i.key, i.fileName, i.absPath])).toEqual([
      ['annots/cat1', 'images/cat1.jpg', path.join(dir, 'images/cat1.jpg')],
      ['annots/cat2', 'images/cat2.jpg', path.join(dir, 'images/cat2.jpg')],
    ]);
    expect(ds.annotations.map((a) => a.geometry)).toEqual([
      { kind: 'box', x: 0, y: 0, w: 10, h: 5 },
      { kind: 'box', x: 1, y: 1, w: 7, h: 7 },
    ]);
    expect(ds.issues).toEqual([
      { level: 'warning', file: '*.xml', record: 'path', message: expect.stringMatching(/^2 XML file\(s\) give an absolute <path> from another computer .*; ignored, images were found by <filename>$/) },
    ]);
  });

  it('XML beside the images in one folder (labelImg default) and in nested folders', async () => {
    await writeImage(path.join(dir, 'a/x.png'), 20, 10);
    await writeText(path.join(dir, 'a/x.xml'), labelImgXml('x.png', obj('dog', [1, 1, 5, 5]), path.join(dir, 'a/x.png')));
    await writeImage(path.join(dir, 'b/deeper/y.jpg'), 20, 10);
    await writeText(path.join(dir, 'b/y.xml'), labelImgXml('y.jpg', obj('dog', [1, 1, 5, 5])));
    const ds = await importVoc(dir);
    expect(ds.images.map((i) => i.fileName)).toEqual(['a/x.png', 'b/deeper/y.jpg']);
    // a <path> inside the folder is not foreign: only y.xml's is noted
    expect(ds.issues.map((i) => i.message)).toEqual([expect.stringMatching(/^1 XML file\(s\) give an absolute <path>/)]);
  });
});

describe('VOC devkit layouts', () => {
  it('images listed in ImageSets without XML come in unlabelled, and it is said; <part>/<actions> noted once', async () => {
    await writeImage(path.join(dir, 'JPEGImages/2008_000001.jpg'), 20, 10);
    await writeImage(path.join(dir, 'JPEGImages/2008_000002.jpg'), 20, 10);
    await writeText(path.join(dir, 'Annotations/2008_000001.xml'), labelImgXml('2008_000001.jpg',
      obj('person', [1, 1, 10, 9], '\t\t<part><name>head</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>4</xmax><ymax>4</ymax></bndbox></part>\n\t\t<actions><jumping>1</jumping></actions>\n'), ''));
    await writeText(path.join(dir, 'ImageSets/Main/train.txt'), '2008_000001\n2008_000002\n2008_000003\n');
    const ds = await importVoc(dir);
    expect(ds.images.map((i) => [i.key, i.split, ds.annotations.filter((a) => a.imageKey === i.key).length])).toEqual([
      ['2008_000001', 'train', 1],
      ['2008_000002', 'train', 0],
    ]);
    expect(ds.issues.map((i) => i.message)).toEqual([
      '1 image(s) listed in ImageSets have no XML: imported without labels',
      '1 image(s) listed in ImageSets have neither an XML nor an image file; skipped',
      '1 object(s) have <part> or <actions> (person layout / action classification): those are not imported, the objects are',
    ]);
  });

  it('segmentation-only VOC (PNGs, no XML) imports masks with classes from SegmentationClass', async () => {
    const W = 6;
    const H = 4;
    await writeImage(path.join(dir, 'JPEGImages/s1.jpg'), W, H);
    const inst = new Uint8Array(W * H);
    const cls = new Uint8Array(W * H);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) { inst[y * W + x] = 1; cls[y * W + x] = 8; } // a cat
    for (let x = 3; x < 6; x++) { inst[3 * W + x] = 2; cls[3 * W + x] = 12; } // a dog
    cls[2 * W + 5] = 255; // void
    await mkdir(path.join(dir, 'SegmentationObject'), { recursive: true });
    await mkdir(path.join(dir, 'SegmentationClass'), { recursive: true });
    await writeFile(path.join(dir, 'SegmentationObject/s1.png'), encodePalettePng(inst, W, H, vocColormap()));
    await writeFile(path.join(dir, 'SegmentationClass/s1.png'), encodePalettePng(cls, W, H, vocColormap()));
    await writeText(path.join(dir, 'ImageSets/Segmentation/val.txt'), 's1\n');
    expect(await detectFormat(dir)).toBe('voc');
    const ds = await importVoc(dir);
    expect(ds.images.map((i) => [i.key, i.fileName, i.split, i.width, i.height])).toEqual([['s1', 'JPEGImages/s1.jpg', 'val', W, H]]);
    expect(ds.annotations.map((a) => a.className)).toEqual(['cat', 'dog']);
    const px = (k: number) => { const g = ds.annotations[k].geometry; return g.kind === 'mask' ? decodeMask(g.rle).reduce((s, v) => s + v, 0) : -1; };
    expect([px(0), px(1)]).toEqual([4, 3]);
    expect(ds.issues.map((i) => i.message)).toEqual([expect.stringMatching(/^1 image\(s\) have segmentation PNGs but no XML: imported with 2 mask\(s\), classes from SegmentationClass\/ \(VOC class order\)$/)]);

    // SegmentationClass alone, with CVAT's labelmap.txt colours: one mask per class
    await writeText(path.join(dir, 'labelmap.txt'), '# label:color_rgb:parts:actions\nbackground:0,0,0::\nweed:128,0,0::\n');
    const { rmSync } = await import('node:fs');
    rmSync(path.join(dir, 'SegmentationObject'), { recursive: true });
    const c2 = new Uint8Array(W * H);
    c2[0] = 1; c2[1] = 1; // palette index 1 = (128,0,0) = weed in the labelmap
    await writeFile(path.join(dir, 'SegmentationClass/s1.png'), encodePalettePng(c2, W, H, vocColormap()));
    const sem = await importVoc(dir);
    expect(sem.annotations.map((a) => a.className)).toEqual(['weed']);
  });

  it('a truncated XML says it is truncated, at its end, instead of line 1 column 1 with the parser text', async () => {
    await writeImage(path.join(dir, 'JPEGImages/a.jpg'), 20, 10);
    const full = labelImgXml('a.jpg', obj('cat', [1, 1, 10, 5]));
    await writeText(path.join(dir, 'Annotations/a.xml'), full.slice(0, full.indexOf('<ymax>')));
    const ds = await importVoc(dir);
    expect(ds.issues).toEqual([{
      level: 'error',
      file: 'Annotations/a.xml',
      record: expect.stringMatching(/^line 2\d, column \d+$/),
      message: 'the XML ends before <annotation> > <object> > <bndbox> are closed: the file is truncated',
    }]);
  });
});
