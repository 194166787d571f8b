// Importing a neutral Dataset: check every record and decode every image first, then write images, classes
// and annotations in ONE transaction. Any error means nothing is written, and media files this import copied
// are removed again.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { AnnotationAttributes, AttributeDef, Geometry, TagName } from '../../contract/schemas';
import { inferAttributeDefs } from '../datasets/attributes';
import type { Dataset, DatasetIssue } from '../datasets/types';
import { placeMedia, writeThumb } from '../ingest/media';
import { INGEST_CONCURRENCY, newImageFrom, type NewImage } from '../ingest/ingest';
import { probeFile, THUMB_SIZE, type ProbedImage } from '../ingest/probe';
import { bumpRevision, refreshStatus } from './changeset';
import type { Statements } from './db';
import { colorFor, isHexColor } from './palette';
import type { IngestOptions } from './types';

export interface ImportResult {
  images: number;
  annotations: number;
  classes: number;
  warnings: string[];
}

/** A dataset whose images are decoded and placed: ready for the one-transaction insert. */
export interface VerifiedDataset {
  /** dataset image key → a new image (inserted) or the id of one already in the project */
  images: Map<string, NewImage | number>;
  classes: Dataset['classes'];
  annotations: (Dataset['annotations'][number] & { geometry: Geometry })[];
  warnings: string[];
  label?: string;
  /** dataset image key → its image-level tags */
  tags?: Map<string, string[]>;
}

const where = (i: DatasetIssue) => `${i.file}${i.record ? ` ${i.record}` : ''}: ${i.message}`;
const MAX_LISTED = 20;

function fail(errors: string[]): never {
  const more = errors.length > MAX_LISTED ? `\n… and ${errors.length - MAX_LISTED} more` : '';
  throw new Error(
    `the dataset has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was imported:\n` +
      errors.slice(0, MAX_LISTED).map((e) => `  ${e}`).join('\n') + more,
  );
}

export interface ImportTarget {
  dir: string;
  st: Statements;
  findByHash(hash: string): { id: number; fileName: string } | undefined;
}

export async function verifyDataset(t: ImportTarget, ds: Dataset, opts: IngestOptions, created: string[]): Promise<VerifiedDataset> {
  const errors = ds.issues.filter((i) => i.level === 'error').map(where);
  if (errors.length) fail(errors);
  const warnings = ds.issues.filter((i) => i.level === 'warning').map(where);

  const classNames = new Set<string>();
  for (const c of ds.classes) {
    if (!c.name || c.name.length > 200) errors.push(`class '${c.name}': a class name must have 1 to 200 characters`);
    if (classNames.has(c.name)) errors.push(`class '${c.name}' is declared twice`);
    classNames.add(c.name);
    c.attributes?.forEach((d, k) => {
      const r = AttributeDef.safeParse(d);
      if (!r.success) errors.push(`class '${c.name}': attribute definition ${k}: ${r.error.issues[0].message}`);
    });
  }
  const keys = new Set<string>();
  for (const im of ds.images) {
    if (keys.has(im.key)) errors.push(`image '${im.fileName}': key ${im.key} is used twice`);
    keys.add(im.key);
    for (const tag of im.tags ?? []) {
      if (!TagName.safeParse(tag).success) errors.push(`image '${im.fileName}': tag '${tag.slice(0, 120)}' must have 1 to 100 characters`);
    }
  }
  const annotations: VerifiedDataset['annotations'] = [];
  ds.annotations.forEach((a, i) => {
    const rec = `annotation ${a.sourceId ?? `#${i}`} (image ${a.imageKey})`;
    if (!keys.has(a.imageKey)) errors.push(`${rec}: no image with key ${a.imageKey}`);
    if (!classNames.has(a.className)) errors.push(`${rec}: class '${a.className}' is not declared`);
    const g = Geometry.safeParse(a.geometry);
    if (!g.success) errors.push(`${rec}: invalid geometry at ${g.error.issues[0].path.join('.')}: ${g.error.issues[0].message}`);
    else annotations.push({ ...a, geometry: g.data });
    if (a.score !== undefined && !(a.score >= 0 && a.score <= 1)) errors.push(`${rec}: score ${a.score} is not in [0, 1]`);
    if (a.attributes) {
      const r = AnnotationAttributes.safeParse(a.attributes);
      if (!r.success) errors.push(`${rec}: attributes${r.error.issues[0].path.length ? `.${r.error.issues[0].path.join('.')}` : ''}: ${r.error.issues[0].message}`);
    }
  });
  if (errors.length) fail(errors);

  const images = new Map<string, NewImage | number>();
  const byHash = new Map<string, { key: string; fileName: string }>();
  const missing = new Set<string>();
  let done = 0;
  // decode a few images ahead (see ingest.ts); results are used in dataset order
  const ahead: Promise<ProbedImage | Error>[] = [];
  let next = 0;
  const fill = () => {
    while (ahead.length < INGEST_CONCURRENCY && next < ds.images.length) {
      const abs = ds.images[next++].absPath;
      ahead.push(abs ? probeFile(abs).catch((e: Error) => e) : Promise.resolve(new Error('missing')));
    }
  };
  try {
    for (const im of ds.images) {
      if (opts.signal?.aborted) throw new Error('the import was cancelled; nothing was imported');
      opts.onProgress?.({ done: done++, total: ds.images.length, current: im.fileName });
      fill();
      const probed = await ahead.shift()!;
      if (!im.absPath) {
        missing.add(im.key);
        continue;
      }
      if (probed instanceof Error) {
        errors.push(`image '${im.fileName}': ${probed.message}`);
        continue;
      }
      const p = probed;
      if (im.width > 0 && im.height > 0 && (im.width !== p.width || im.height !== p.height)) {
        if (p.orientation >= 5 && im.width === p.rawWidth && im.height === p.rawHeight) {
          warnings.push(`image '${im.fileName}': the declared size ${im.width}×${im.height} ignores its EXIF rotation ` +
            `(orientation ${p.orientation}, shown as ${p.width}×${p.height}); its annotations were kept as they are and may be misplaced`);
        } else {
          errors.push(`image '${im.fileName}': declared as ${im.width}×${im.height} but the file is ${p.width}×${p.height}`);
          continue;
        }
      }
      const existing = t.findByHash(p.hash);
      const twin = byHash.get(p.hash);
      if (existing) {
        images.set(im.key, existing.id);
        warnings.push(`image '${im.fileName}' is already in the project as image ${existing.id} (${existing.fileName}); its annotations were added to it`);
        continue;
      }
      if (twin) {
        images.set(im.key, images.get(twin.key)!);
        warnings.push(`image '${im.fileName}' has the same content as '${twin.fileName}'; they were merged into one image`);
        continue;
      }
      if (errors.length) continue; // the import will fail: don't copy more files
      const placed = await placeMedia(t.dir, im.absPath, p.data, p.hash, p.ext, opts.mode ?? 'copy');
      if (placed.created) created.push(placed.created);
      created.push(await writeThumb(t.dir, p.hash, THUMB_SIZE, p.thumb));
      byHash.set(p.hash, { key: im.key, fileName: im.fileName });
      images.set(im.key, newImageFrom(p, placed, im.fileName, im.split));
    }
  } finally {
    await Promise.allSettled(ahead);
  }
  if (errors.length) fail(errors);
  opts.onProgress?.({ done, total: ds.images.length });

  const tags = new Map<string, string[]>();
  for (const im of ds.images) if (im.tags?.length && !missing.has(im.key)) tags.set(im.key, im.tags.map((t) => t.trim()));
  let dropped = 0;
  const kept = annotations.filter((a) => !missing.has(a.imageKey) || (dropped++, false));
  const missingNames = ds.images.filter((im) => missing.has(im.key)).map((im) => im.fileName);
  for (const name of missingNames.slice(0, MAX_LISTED)) warnings.push(`image '${name}': the file is missing; it was skipped`);
  if (missingNames.length > MAX_LISTED) warnings.push(`… and ${missingNames.length - MAX_LISTED} more missing image files were skipped`);
  if (dropped) warnings.push(`${dropped} annotation${dropped === 1 ? '' : 's'} on missing images were skipped`);
  return { images, classes: ds.classes, annotations: kept, warnings, tags };
}

/**
 * The single transaction of an import (also used directly by the store benchmark with synthetic metadata).
 * Existing classes are matched by name; new ones get the next colours and orders.
 */
export function insertVerified(st: Statements, v: VerifiedDataset, now = Date.now()): ImportResult {
  return st.db.transaction((): ImportResult => {
    const classIds = new Map<string, number>();
    let newClasses = 0;
    let { n: classCount, o: maxOrd } = st.get<[], { n: number; o: number | null }>('SELECT COUNT(*) AS n, MAX(ord) AS o FROM classes').get() as { n: number; o: number };
    const findClass = st.get<[string], { id: number; attributes: string | null }>('SELECT id, attributes FROM classes WHERE name = ?');
    const insClass = st.get('INSERT INTO classes (name, color, hotkey, ord, source_id, attributes) VALUES (?, ?, NULL, ?, ?, ?)');
    const setDefs = st.get('UPDATE classes SET attributes = ? WHERE id = ?');
    // a class gets definitions for the attributes its imported shapes carry (existing definitions stay as they are)
    const known = new Map<string, AttributeDef[]>();
    for (const c of v.classes) {
      const found = findClass.get(c.name);
      const existing = found?.attributes ? (JSON.parse(found.attributes) as AttributeDef[]) : [];
      const names = new Set(existing.map((d) => d.name));
      known.set(c.name, [...existing, ...(c.attributes ?? []).filter((d) => !names.has(d.name))]);
    }
    const defs = inferAttributeDefs(v.annotations, known);
    const defsOf = (name: string) => {
      const d = defs.get(name) ?? known.get(name) ?? [];
      return d.length ? JSON.stringify(d) : null;
    };
    for (const c of v.classes) {
      const found = findClass.get(c.name);
      if (found) {
        classIds.set(c.name, found.id);
        const d = defsOf(c.name);
        if (d !== found.attributes) setDefs.run(d, found.id);
        continue;
      }
      maxOrd = (maxOrd ?? -1) + 1;
      const r = insClass.run(c.name, isHexColor(c.color) ? c.color : colorFor(classCount++), maxOrd, c.sourceId ?? null, defsOf(c.name));
      classIds.set(c.name, Number(r.lastInsertRowid));
      newClasses++;
    }

    const insImage = st.get(
      `INSERT INTO images (hash, path, linked, file_name, format, bytes, width, height, orientation, split, added_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const imageIds = new Map<string, number>();
    const inserted = new Map<NewImage, number>();
    for (const [key, im] of v.images) {
      if (typeof im === 'number') {
        imageIds.set(key, im);
        continue;
      }
      let id = inserted.get(im);
      if (id === undefined) {
        id = Number(insImage.run(im.hash, im.path, im.linked ? 1 : 0, im.fileName, im.format, im.bytes, im.width, im.height, im.orientation, im.split ?? 'train', now).lastInsertRowid);
        inserted.set(im, id);
      }
      imageIds.set(key, id);
    }

    const insAnn = st.get(
      `INSERT INTO annotations (id, image_id, class_id, kind, geometry, source, score, model_version, iscrowd, source_id, created_at, updated_at,
         occluded, truncated, difficult, attributes)
       VALUES (?, ?, ?, ?, ?, 'human', ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const touched = new Set<number>();
    for (const a of v.annotations) {
      const imageId = imageIds.get(a.imageKey)!;
      const { kind, ...rest } = a.geometry;
      const f = a.flags ?? {};
      const attrs = a.attributes && Object.keys(a.attributes).length ? JSON.stringify(a.attributes) : null;
      insAnn.run(randomUUID(), imageId, classIds.get(a.className)!, kind, JSON.stringify(rest), a.score ?? null, a.iscrowd ? 1 : 0,
        a.sourceId === undefined ? null : String(a.sourceId), now, now, f.occluded ? 1 : 0, f.truncated ? 1 : 0, f.difficult ? 1 : 0, attrs);
      touched.add(imageId);
    }
    // images merged into one (same content) or already in the project keep the union of their tags
    const insTag = st.get('INSERT OR IGNORE INTO image_tags (image_id, tag) VALUES (?, ?)');
    for (const [key, tags] of v.tags ?? []) {
      const imageId = imageIds.get(key);
      if (imageId !== undefined) for (const t of tags) insTag.run(imageId, t);
    }
    refreshStatus(st, touched);

    bumpRevision(st, v.label ?? 'import dataset', [v.annotations.length, 0, 0], now);
    return { images: inserted.size, annotations: v.annotations.length, classes: newClasses, warnings: v.warnings };
  }).immediate();
}

/** Removes files an import created before it failed. */
export function removeCreated(files: string[]): void {
  for (const f of files) rmSync(f, { force: true });
}
