// `hst-studio import` on what the tools really export: exit codes, what is left in the project when it fails,
// and messages that are grouped, capped, printed once and on stderr, with the full list in --report.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src-main/cli/main';
import { createProject, openProject } from '../../src-main/core/store/project';
import { tempDir, writeImage, writeText } from '../core/datasets/fixtures';

let dir: string;
let cleanup: () => Promise<void>;
let stdout: string[];
let stderr: string[];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('hst-icli-'));
  stdout = [];
  stderr = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void stdout.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a) => void stderr.push(a.join(' ')));
  createProject(path.join(dir, 'proj')).close();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
});

const proj = () => path.join(dir, 'proj');
const projectState = () => {
  const p = openProject(proj());
  try {
    return [p.revision(), p.listImages().total, p.listClasses().length];
  } finally {
    p.close();
  }
};
const xml = (file: string, obj = '<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>') =>
  `<annotation><filename>${file}</filename><path>/home/ann/${file}</path><size><width>16</width><height>12</height><depth>3</depth></size>${obj}</annotation>`;

describe('hst-studio import exit codes', () => {
  it('a COCO folder whose images are nowhere fails (exit 1) and leaves no class behind', async () => {
    await writeText(path.join(dir, 'c/annotations/instances_train.json'), JSON.stringify({
      images: [{ id: 1, file_name: 'gone.jpg', width: 16, height: 12 }],
      categories: [{ id: 1, name: 'car' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 3, 3] }],
    }));
    expect(await main(['import', proj(), path.join(dir, 'c')])).toBe(1);
    expect(stderr.join('\n')).toMatch(/none of its 1 image could be imported \(1 missing\)/);
    expect(projectState()).toEqual([0, 0, 0]);
  });

  it('auto-detection refuses a folder of several formats, naming what it saw', async () => {
    await writeImage(path.join(dir, 'm/a.jpg'), 16, 12);
    await writeText(path.join(dir, 'm/a.xml'), xml('a.jpg'));
    await writeText(path.join(dir, 'm/coco.json'), JSON.stringify({ images: [], annotations: [], categories: [] }));
    expect(await main(['import', proj(), path.join(dir, 'm')])).toBe(1);
    expect(stderr.join('\n')).toMatch(/holds annotations of several formats: voc \(a\.xml\); coco \(coco\.json\)\. Pass --format/);
  });

  it('a damaged image is skipped and counted; --strict fails with exit 1', async () => {
    await writeImage(path.join(dir, 'v/good.jpg'), 16, 12);
    await writeText(path.join(dir, 'v/good.xml'), xml('good.jpg'));
    writeFileSync(path.join(dir, 'v/bad.jpg'), Buffer.from('not a jpeg at all'));
    await writeText(path.join(dir, 'v/bad.xml'), xml('bad.jpg'));
    expect(await main(['import', proj(), path.join(dir, 'v'), '--strict'])).toBe(1);
    expect(projectState()).toEqual([0, 0, 0]);
    expect(await main(['import', proj(), path.join(dir, 'v')])).toBe(0);
    expect(stdout.join('\n')).toMatch(/imported 1 image\(s\), 1 annotation\(s\), 1 new class\(es\) into .*, skipped 1 image\(s\)/);
    expect(stderr.join('\n')).toMatch(/warning: bad\.jpg: not an image.*; skipped with its annotations/);
    // the same dataset again: nothing changes, exit 0, said
    stdout.length = 0;
    expect(await main(['import', proj(), path.join(dir, 'v')])).toBe(0);
    expect(stdout.join('\n')).toMatch(/nothing changed: .* is already imported/);
    expect(projectState()).toEqual([1, 1, 1]);
  });
});

describe('hst-studio import messages', () => {
  it('groups and caps repeated warnings on stderr, prints each once, and writes all of them to --report', async () => {
    await writeImage(path.join(dir, 'v/present.jpg'), 16, 12);
    await writeText(path.join(dir, 'v/present.xml'), xml('present.jpg'));
    for (let i = 0; i < 40; i++) await writeText(path.join(dir, `v/lost${i}.xml`), xml(`lost${i}.jpg`));
    const report = path.join(dir, 'report.json');
    expect(await main(['import', proj(), '--format', 'voc', path.join(dir, 'v'), '--report', report])).toBe(0);
    const err = stderr.join('\n');
    // the reader's "not found" and the store's "missing" are two kinds, each shown 3 times and counted
    expect(err.match(/image 'lost\d+\.jpg' not found/g)).toHaveLength(3);
    expect(err.match(/lost\d+\.jpg: the image file is missing; skipped with its annotations/g)).toHaveLength(3);
    expect(err.match(/…and 37 more like this/g)).toHaveLength(2);
    expect(err).toMatch(/41 XML file\(s\) give an absolute <path> from another computer/);
    // nothing twice, no warnings on stdout
    const lines = stderr.filter((l) => l.startsWith('warning:'));
    expect(new Set(lines).size).toBe(lines.length);
    expect(stdout.join('\n')).not.toMatch(/warning/);
    expect(stdout).toEqual([expect.stringMatching(/^imported 1 image\(s\), 1 annotation\(s\), 1 new class\(es\) into .*, skipped 40 image\(s\)$/)]);
    const full = JSON.parse(readFileSync(report, 'utf8'));
    expect(full).toMatchObject({ ok: true, images: 1, skippedImages: 40, format: 'voc' });
    expect(full.issues.filter((i: { message: string }) => /not found/.test(i.message))).toHaveLength(40);
    expect(err).toMatch(/the full list \(\d+ warnings\) is in .*report\.json/);
  });

  it('clear messages: a missing folder, a COCO folder without JSON, an unreadable dataset folder', async () => {
    expect(await main(['import', proj(), '--format', 'voc', path.join(dir, 'nope')])).toBe(1);
    expect(stderr.join('\n')).toMatch(/nope: no such file or folder/);
    expect(stderr.join('\n')).not.toMatch(/ENOENT|scandir/);
    await writeImage(path.join(dir, 'pics/a.jpg'), 4, 4);
    expect(await main(['import', proj(), '--format', 'coco', path.join(dir, 'pics')])).toBe(1);
    expect(stderr.join('\n')).toMatch(/pics is a folder without a COCO JSON in it/);
    expect(stderr.join('\n')).not.toMatch(/EISDIR/);
  });
});

describe('hst-studio import --replace', () => {
  it('gives images already in the project the imported annotations instead of adding to theirs', async () => {
    await writeImage(path.join(dir, 'y/images/train/a.jpg'), 16, 12);
    await writeText(path.join(dir, 'y/data.yaml'), 'train: images/train\nnames: [cat, dog]\n');
    await writeText(path.join(dir, 'y/labels/train/a.txt'), '0 0.5 0.5 0.25 0.25\n');
    expect(await main(['import', proj(), path.join(dir, 'y')])).toBe(0);
    await writeText(path.join(dir, 'y/labels/train/a.txt'), '1 0.25 0.25 0.25 0.25\n');
    expect(await main(['import', proj(), path.join(dir, 'y'), '--replace'])).toBe(0);
    const p = openProject(proj());
    try {
      const dog = p.listClasses().find((c) => c.name === 'dog')!.id;
      expect(p.annotationsOf(1).map((a) => a.classId)).toEqual([dog]);
    } finally {
      p.close();
    }
  });
});
