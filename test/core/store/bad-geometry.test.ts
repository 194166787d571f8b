// Every kind of bad geometry a project could hold before geometry was checked (issue 21): the schema-4 upgrade
// clips what it can and quarantines the rest (saying how many), and exports in all four formats succeed, leaving
// out and reporting any unreadable annotation instead of failing whole.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compress } from '../../../src-main/core/geometry/rle';
import { EXPORT_FORMATS, writeDataset } from '../../../src-main/core/datasets/write-dataset';
import { openDb } from '../../../src-main/core/store/db';
import { migrate } from '../../../src-main/core/store/migrate';
import { MIGRATIONS } from '../../../src-main/core/store/migrations/index';
import { createProject, openProject } from '../../../src-main/core/store/project';
import { tempDir } from './helpers';

const W = 160;
const H = 120;
const good = {
  box: { x: 10, y: 10, w: 20, h: 30 },
  polygon: { rings: [[10, 10, 50, 10, 30, 40]] },
  mask: { rle: compress({ size: [H, W], counts: [200, 40, H * W - 240] }) },
};
/** what the API accepted before the fix (issue 21's reproductions), as stored: kind column + geometry JSON */
const BAD: [string, string, string][] = [
  ['mask', JSON.stringify({ rle: { size: [H, W], counts: 'hello world' } }), 'does not decode'],
  ['mask', JSON.stringify({ rle: { size: [1e9, 1e9], counts: '52' } }), 'must be [120, 160]'],
  ['mask', JSON.stringify({ rle: compress({ size: [80, 80], counts: [10, 10, 6380] }) }), 'must be [120, 160]'],
  ['box', JSON.stringify({ x: -1e6, y: 0, w: 10, h: 10 }), 'wholly outside'],
  ['box', JSON.stringify({ x: 5, y: 5, w: 1e308, h: 10 }), 'limited to'],
  ['box', JSON.stringify({ x: 5, y: 5, w: 0, h: 0 }), 'positive width'],
  ['polygon', JSON.stringify({ rings: [[-500, -500, -400, -500, -400, -400]] }), 'wholly outside'],
  ['polygon', JSON.stringify({ rings: [[1, 1, 5, 5, 9, 1, 4]] }), 'even count'],
  ['polygon', '{"rings": [[1, 1, 5, 5, 9,', 'not valid JSON'],
];
/** partly outside: clipped by the upgrade */
const CLIPPABLE: [string, string][] = [
  ['box', JSON.stringify({ x: -10, y: 100, w: 30, h: 50 })],
  ['polygon', JSON.stringify({ rings: [[-20, 10, 40, 10, 40, 50, -20, 50]] })],
];

let t: ReturnType<typeof tempDir>;
beforeEach(() => (t = tempDir('hst-badgeom-')));
afterEach(() => t.cleanup());

/** A schema-3 project (as written before this fix) holding good, clippable and bad annotations. */
function oldProject(dir: string): void {
  createProject(dir, { name: 'old' }).close();
  // take its database back to schema 3, as the previous release left it
  const db = openDb(join(dir, 'project.sqlite'));
  db.exec('DROP TABLE quarantine; DELETE FROM meta WHERE key = \'geometry_check\'');
  db.pragma('user_version = 3');
  migrate(db, MIGRATIONS.slice(0, 3));
  db.prepare(`INSERT INTO images (id, hash, path, linked, file_name, format, bytes, width, height, split, status, added_at)
              VALUES (1, 'h1', 'media/x/1.jpg', 0, 'one.jpg', 'jpeg', 100, ?, ?, 'train', 'labeled', 1)`).run(W, H);
  db.prepare(`INSERT INTO classes (id, name, color, ord) VALUES (1, 'thing', '#ff0000', 0)`).run();
  const ins = db.prepare(`INSERT INTO annotations (id, image_id, class_id, kind, geometry, created_at, updated_at) VALUES (?, 1, 1, ?, ?, 1, 1)`);
  for (const [k, g] of Object.entries(good)) ins.run(`good-${k}`, k, JSON.stringify(g));
  CLIPPABLE.forEach(([k, g], i) => ins.run(`clip-${i}`, k, g));
  BAD.forEach(([k, g], i) => ins.run(`bad-${i}`, k, g));
  db.close();
}

describe('bad geometry stored before it was checked', () => {
  it('the schema-4 upgrade clips what it can, quarantines the rest and says how many', () => {
    const dir = join(t.dir, 'p');
    oldProject(dir);
    const s = openProject(dir);
    try {
      expect(s.geometryCheck()).toMatchObject({ checked: 3 + CLIPPABLE.length + BAD.length, clipped: CLIPPABLE.length, quarantined: BAD.length });
      expect(s.notice).toBe(`checked the geometry of ${3 + CLIPPABLE.length + BAD.length} stored annotation(s): ${CLIPPABLE.length} clipped to their image, ${BAD.length} unreadable one(s) moved to the quarantine table`);
      const q = s.quarantined();
      expect(q.map((r) => r.id)).toEqual(BAD.map((_, i) => `bad-${i}`));
      BAD.forEach(([, , why], i) => expect(q[i].reason).toContain(why));
      const anns = s.annotationsOf(1);
      expect(anns.map((a) => a.id).sort()).toEqual(['clip-0', 'clip-1', 'good-box', 'good-mask', 'good-polygon']);
      expect(anns.find((a) => a.id === 'clip-0')!.geometry).toEqual({ kind: 'box', x: 0, y: 100, w: 20, h: 20 });
      expect(s.revision()).toBe(1);
    } finally {
      s.close();
    }
    // opening again changes nothing more and says nothing
    const again = openProject(dir);
    expect(again.notice).toBeUndefined();
    expect(again.revision()).toBe(1);
    again.close();
  });

  it('exports in every format succeed and report an unreadable annotation instead of failing whole', async () => {
    const dir = join(t.dir, 'p');
    oldProject(dir);
    const s = openProject(dir);
    try {
      // a row damaged after the upgrade (another tool, a hand edit): the export must still run
      for (const [i, [k, g]] of BAD.entries()) {
        s.db.prepare(`INSERT INTO annotations (id, image_id, class_id, kind, geometry, created_at, updated_at) VALUES (?, 1, 1, ?, ?, 2, 2)`).run(`late-${i}`, k, g);
      }
      const ds = s.toDataset();
      expect(ds.annotations).toHaveLength(5);
      expect(ds.issues).toHaveLength(BAD.length);
      expect(ds.issues[0]).toMatchObject({ level: 'warning', record: 'annotation late-0 on image 1' });
      expect(ds.issues[0].message).toMatch(/^left out: .*does not decode/);
      for (const f of EXPORT_FORMATS) {
        const out = join(t.dir, `out-${f}`);
        const r = await writeDataset(f, ds, out, { images: 'none' });
        expect(r.files.length, f).toBeGreaterThan(0);
        expect(existsSync(out)).toBe(true);
      }
      // one instances_<split>.json per split (the CVAT/Datumaro layout); the readable annotations are all there
      const dir = join(t.dir, 'out-coco', 'annotations');
      const written = readdirSync(dir).filter((f) => /^instances_.*\.json$/.test(f));
      expect(written.length).toBeGreaterThan(0);
      const total = written.reduce((n, f) => n + (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { annotations: unknown[] }).annotations.length, 0);
      expect(total).toBe(5);
    } finally {
      s.close();
    }
  });

  it('an export to /proc is a clear error at once', async () => {
    const dir = join(t.dir, 'p');
    oldProject(dir);
    const s = openProject(dir);
    try {
      const t0 = performance.now();
      await expect(writeDataset('coco', s.toDataset(), '/proc/self/hst-export', { images: 'none' })).rejects.toThrow(/proc pseudo filesystem/);
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      s.close();
    }
  });
});
