// Schema 4: every stored annotation's geometry checked against its image, as annotations.apply checks new ones
// since this schema. Before, a mask whose RLE did not decode or had another size, boxes far outside the image or
// of zero size, and polygons with an odd number of coordinates could be stored, and then broke every export.
// What can be repaired by clipping to the image is clipped; what cannot is moved to the `quarantine` table (the
// original row kept whole, with the reason) so nothing is silently lost. The counts are recorded in meta
// ('geometry_check') and shown by `hst-studio project info` and project.open.
import { storedGeometry } from '../stored-geometry';
import type { Migration } from './types';

export const GEOMETRY_CHECK_KEY = 'geometry_check';

export interface GeometryCheckReport {
  checked: number;
  clipped: number;
  quarantined: number;
  at: number;
}

interface Row {
  rowid: number;
  id: string;
  image_id: number;
  kind: string;
  geometry: string;
  width: number | null;
  height: number | null;
}

export const m004: Migration = {
  version: 4,
  name: 'geometry-check',
  up(db) {
    db.exec(`
      CREATE TABLE quarantine (
        id             TEXT NOT NULL,
        image_id       INTEGER,
        -- the whole annotations row as JSON, to restore or inspect by hand
        row            TEXT NOT NULL,
        reason         TEXT NOT NULL,
        quarantined_at INTEGER NOT NULL
      );
    `);
    const page = db.prepare(
      `SELECT a.rowid AS rowid, a.id, a.image_id, a.kind, a.geometry, i.width, i.height
       FROM annotations a LEFT JOIN images i ON i.id = a.image_id WHERE a.rowid > ? ORDER BY a.rowid LIMIT 500`,
    );
    const whole = db.prepare('SELECT * FROM annotations WHERE rowid = ?');
    const park = db.prepare('INSERT INTO quarantine (id, image_id, row, reason, quarantined_at) VALUES (?, ?, ?, ?, ?)');
    const drop = db.prepare('DELETE FROM annotations WHERE rowid = ?');
    const fix = db.prepare('UPDATE annotations SET geometry = ? WHERE rowid = ?');
    const now = Date.now();
    const report: GeometryCheckReport = { checked: 0, clipped: 0, quarantined: 0, at: now };
    const touched = new Set<number>();
    for (let last = 0; ; ) {
      const rows = page.all(last) as Row[];
      if (!rows.length) break;
      for (const r of rows) {
        last = r.rowid;
        report.checked++;
        const g = r.width && r.height ? storedGeometry(r.kind, r.geometry, r.width, r.height) : { ok: false as const, reason: `its image ${r.image_id} is missing` };
        if (g.ok && !g.clipped) continue;
        if (g.ok) {
          const { kind: _k, ...rest } = g.geometry;
          fix.run(JSON.stringify(rest), r.rowid);
          report.clipped++;
        } else {
          park.run(r.id, r.image_id, JSON.stringify(whole.get(r.rowid)), g.reason, now);
          drop.run(r.rowid);
          report.quarantined++;
        }
        touched.add(r.image_id);
      }
    }
    db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(GEOMETRY_CHECK_KEY, JSON.stringify(report));
    if (!touched.size) return;
    // the labels changed: that is a new dataset revision (models trained before say which one they saw)
    const rev = Number((db.prepare(`SELECT value FROM meta WHERE key = 'revision'`).get() as { value: string }).value) + 1;
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'revision'`).run(String(rev));
    db.prepare('INSERT INTO revisions (revision, label, applied_at, created, updated, deleted) VALUES (?, ?, ?, 0, ?, ?)')
      .run(rev, `schema 4: ${report.clipped} annotation(s) clipped to their image, ${report.quarantined} unreadable one(s) quarantined`, now, report.clipped, report.quarantined);
    const status = db.prepare(
      `UPDATE images SET status = CASE WHEN EXISTS (SELECT 1 FROM annotations WHERE image_id = @id AND source = 'human')
         THEN 'labeled' ELSE 'unlabeled' END WHERE id = @id AND status != 'reviewed'`,
    );
    for (const id of touched) status.run({ id });
  },
};
