// The project as a neutral Dataset for exporters and the trainer. Image keys are the store's image ids;
// file names are made unique (an exporter writes them side by side).
import { extname } from 'node:path';
import type { Split } from '../../contract/schemas';
import type { Dataset, DatasetAnnotation, DatasetImage } from '../datasets/types';
import type { Statements } from './db';
import { geometryFromColumn, type ClassRow, type ImageRow } from './rows';

export function exportDataset(st: Statements, imagePath: (row: ImageRow) => string, opts: { splits?: Split[] } = {}): Dataset {
  const splits = opts.splits?.length ? opts.splits : null;
  const rows = st.get<[], ImageRow>('SELECT * FROM images ORDER BY id').all().filter((r) => !splits || splits.includes(r.split as Split));
  const used = new Set<string>();
  const tags = new Map<number, string[]>();
  for (const t of st.get<[], { image_id: number; tag: string }>('SELECT image_id, tag FROM image_tags ORDER BY image_id, tag').iterate()) {
    const list = tags.get(t.image_id);
    if (list) list.push(t.tag);
    else tags.set(t.image_id, [t.tag]);
  }
  const images: DatasetImage[] = rows.map((r) => {
    let name = r.file_name;
    if (used.has(name.toLowerCase())) {
      const ext = extname(name);
      name = `${name.slice(0, name.length - ext.length)}-${r.id}${ext}`;
    }
    used.add(name.toLowerCase());
    const im: DatasetImage = { key: String(r.id), fileName: name, absPath: imagePath(r), width: r.width, height: r.height, split: r.split as Split };
    const t = tags.get(r.id);
    if (t) im.tags = t;
    return im;
  });
  const classes = st.get<[], ClassRow>('SELECT * FROM classes ORDER BY ord, id').all();
  const className = new Map(classes.map((c) => [c.id, c.name]));
  const wanted = splits ? new Set(rows.map((r) => r.id)) : null;
  const annotations: DatasetAnnotation[] = [];
  const all = st.get<[], {
    image_id: number; class_id: number; kind: string; geometry: string; score: number | null; iscrowd: number; source_id: string | null;
    occluded: number; truncated: number; difficult: number; attributes: string | null;
  }>(
    `SELECT image_id, class_id, kind, geometry, score, iscrowd, source_id, occluded, truncated, difficult, attributes
     FROM annotations ORDER BY image_id, created_at, rowid`,
  ).iterate();
  for (const a of all) {
    if (wanted && !wanted.has(a.image_id)) continue;
    const d: DatasetAnnotation = { imageKey: String(a.image_id), className: className.get(a.class_id)!, geometry: geometryFromColumn(a.kind, a.geometry) };
    if (a.iscrowd) d.iscrowd = true;
    if (a.occluded || a.truncated || a.difficult) {
      d.flags = { ...(a.occluded ? { occluded: true } : {}), ...(a.truncated ? { truncated: true } : {}), ...(a.difficult ? { difficult: true } : {}) };
    }
    if (a.attributes) d.attributes = JSON.parse(a.attributes);
    if (a.score !== null) d.score = a.score;
    if (a.source_id !== null) d.sourceId = /^-?\d+$/.test(a.source_id) ? Number(a.source_id) : a.source_id;
    annotations.push(d);
  }
  return {
    images,
    classes: classes.map((c) => ({
      name: c.name, color: c.color, ...(c.source_id !== null ? { sourceId: c.source_id } : {}), ...(c.attributes ? { attributes: JSON.parse(c.attributes) } : {}),
    })),
    annotations,
    issues: [],
  };
}
