// Importing a neutral Dataset: check every record and decode every image first, then write images, classes
// and annotations in ONE transaction. Any error means nothing is written, and media files this import copied
// are removed again. Damaged images are skipped with their annotations (or fail the import with `strict`);
// an import that would bring no image, or would drop every label, fails instead of half-importing.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { AnnotationAttributes, AttributeDef, Geometry, TagName } from '../../contract/schemas';
import { inferAttributeDefs } from '../datasets/attributes';
import { clipGeometry, orientGeometry } from '../datasets/fit-geometry';
import { formatIssue } from '../datasets/issues';
import type { Dataset, DatasetIssue } from '../datasets/types';
import { placeMedia, writeThumb } from '../ingest/media';
import { INGEST_CONCURRENCY, newImageFrom, type NewImage } from '../ingest/ingest';
import { probeBuffer, probeFile, THUMB_SIZE, type ProbedImage } from '../ingest/probe';
import { bumpRevision, refreshStatus } from './changeset';
import type { Statements } from './db';
import { colorFor, isHexColor } from './palette';
import type { IngestOptions } from './types';

export interface DatasetImportOptions extends IngestOptions {
  /** Any image that cannot be decoded fails the whole import (default: it is skipped with its annotations). */
  strict?: boolean;
  /** Images already in the project get the imported annotations and split instead of keeping theirs. */
  replace?: boolean;
}

export interface ImportResult {
  images: number;
  annotations: number;
  classes: number;
  /** every warning (the reader's and the store's), once each, as "file: record: message" */
  warnings: string[];
  /** the same warnings with their file and record apart, for grouping and the import report */
  issues: DatasetIssue[];
  /** images of the dataset that were not imported (missing or undecodable files) */
  skippedImages: number;
  /** true when the project already held everything: nothing was written (no new revision) */
  unchanged: boolean;
}

/** An import that fails: the message says why in a sentence, `issues` has the full list. */
export class DatasetImportError extends Error {
  constructor(message: string, readonly issues: DatasetIssue[]) {
    super(message);
    this.name = 'DatasetImportError';
  }
}

/** A dataset whose images are decoded and placed: ready for the one-transaction insert. */
export interface VerifiedDataset {
  /** dataset image key → a new image (inserted) or the id of one already in the project */
  images: Map<string, NewImage | number>;
  classes: Dataset['classes'];
  annotations: (Dataset['annotations'][number] & { geometry: Geometry })[];
  warnings: string[];
  issues?: DatasetIssue[];
  skippedImages?: number;
  /** replace the annotations (and split) of images already in the project */
  replace?: boolean;
  /** dataset image key → the split the dataset gives it (used with `replace`) */
  splits?: Map<string, string>;
  label?: string;
  /** dataset image key → its image-level tags */
  tags?: Map<string, string[]>;
}

const MAX_LISTED = 20;

/** Throws the errors; `others` (warnings) travel with them for the import report. */
function fail(errors: DatasetIssue[], others: DatasetIssue[] = []): never {
  const lines = errors.slice(0, MAX_LISTED).map((e) => `  ${formatIssue(e)}`);
  const more = errors.length > MAX_LISTED ? `\n  … and ${errors.length - MAX_LISTED} more` : '';
  throw new DatasetImportError(
    `the dataset has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was imported:\n${lines.join('\n')}${more}`,
    [...errors, ...others.filter((o) => o.level !== 'error')],
  );
}

export interface ImportTarget {
  dir: string;
  st: Statements;
  findByHash(hash: string): { id: number; fileName: string } | undefined;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export async function verifyDataset(t: ImportTarget, ds: Dataset, opts: DatasetImportOptions, created: string[]): Promise<VerifiedDataset> {
  const readerErrors = ds.issues.filter((i) => i.level === 'error');
  if (readerErrors.length) fail(readerErrors, ds.issues);
  const issues: DatasetIssue[] = ds.issues.filter((i) => i.level === 'warning');
  const errors: DatasetIssue[] = [];
  const err = (file: string, message: string) => errors.push({ level: 'error', file, message });
  const warn = (file: string, message: string) => issues.push({ level: 'warning', file, message });
  if (ds.images.length === 0) {
    fail([{ level: 'error', file: '(dataset)', message: 'no images were found in it, so there is nothing to import' +
      (ds.annotations.length ? ` (its ${plural(ds.annotations.length, 'annotation')} point at no image)` : '') }], issues);
  }

  const classNames = new Set<string>();
  for (const c of ds.classes) {
    if (!c.name || c.name.length > 200) err(`class '${c.name}'`, 'a class name must have 1 to 200 characters');
    if (classNames.has(c.name)) err(`class '${c.name}'`, 'declared twice');
    classNames.add(c.name);
    c.attributes?.forEach((d, k) => {
      const r = AttributeDef.safeParse(d);
      if (!r.success) err(`class '${c.name}'`, `attribute definition ${k}: ${r.error.issues[0].message}`);
    });
  }
  const keys = new Set<string>();
  for (const im of ds.images) {
    if (keys.has(im.key)) err(im.fileName, `image key ${im.key} is used twice`);
    keys.add(im.key);
    for (const tag of im.tags ?? []) {
      if (!TagName.safeParse(tag).success) err(im.fileName, `tag '${tag.slice(0, 120)}' must have 1 to 100 characters`);
    }
  }
  const annotations: VerifiedDataset['annotations'] = [];
  ds.annotations.forEach((a, i) => {
    const rec = `annotation ${a.sourceId ?? `#${i}`} (image ${a.imageKey})`;
    if (!keys.has(a.imageKey)) err(rec, `no image with key ${a.imageKey}`);
    if (!classNames.has(a.className)) err(rec, `class '${a.className}' is not declared`);
    const g = Geometry.safeParse(a.geometry);
    if (!g.success) err(rec, `invalid geometry at ${g.error.issues[0].path.join('.')}: ${g.error.issues[0].message}`);
    else annotations.push({ ...a, geometry: g.data });
    if (a.score !== undefined && !(a.score >= 0 && a.score <= 1)) err(rec, `score ${a.score} is not in [0, 1]`);
    if (a.attributes) {
      const r = AnnotationAttributes.safeParse(a.attributes);
      if (!r.success) err(rec, `attributes${r.error.issues[0].path.length ? `.${r.error.issues[0].path.join('.')}` : ''}: ${r.error.issues[0].message}`);
    }
  });
  if (errors.length) fail(errors, issues);

  const images = new Map<string, NewImage | number>();
  /** the displayed size and, when the source labelled the raw pixels of an EXIF-rotated photo, how to turn them */
  const frames = new Map<string, { width: number; height: number; orient?: { o: number; W: number; H: number } }>();
  const byHash = new Map<string, { key: string; fileName: string }>();
  const skipped = new Set<string>();
  let missing = 0;
  let undecodable = 0;
  let mergedTwins = 0;
  let known = 0;
  let rotated = 0;
  let done = 0;
  // decode a few images ahead (see ingest.ts); results are used in dataset order
  const ahead: Promise<ProbedImage | Error>[] = [];
  let next = 0;
  const fill = () => {
    while (ahead.length < INGEST_CONCURRENCY && next < ds.images.length) {
      const im = ds.images[next++];
      ahead.push(im.data ? probeBuffer(im.data).catch((e: Error) => e) : im.absPath ? probeFile(im.absPath).catch((e: Error) => e) : Promise.resolve(new Error('missing')));
    }
  };
  try {
    for (const im of ds.images) {
      if (opts.signal?.aborted) throw new Error('the import was cancelled; nothing was imported');
      opts.onProgress?.({ done: done++, total: ds.images.length, current: im.fileName });
      fill();
      const probed = await ahead.shift()!;
      if (!im.absPath && !im.data) {
        skipped.add(im.key);
        missing++;
        warn(im.fileName, 'the image file is missing; skipped with its annotations');
        continue;
      }
      if (probed instanceof Error) {
        if (opts.strict) err(im.fileName, `${probed.message} (strict import: nothing was imported)`);
        else {
          skipped.add(im.key);
          undecodable++;
          warn(im.fileName, `${probed.message}; skipped with its annotations`);
        }
        continue;
      }
      const p = probed;
      if (p.repaired) warn(im.fileName, p.repaired);
      const frame: { width: number; height: number; orient?: { o: number; W: number; H: number } } = { width: p.width, height: p.height };
      if (im.width > 0 && im.height > 0 && (im.width !== p.width || im.height !== p.height)) {
        if (p.orientation >= 5 && im.width === p.rawWidth && im.height === p.rawHeight) {
          // the tool labelled the stored pixels (it ignores EXIF); the studio shows them turned: turn the labels too
          frame.orient = { o: p.orientation, W: p.rawWidth, H: p.rawHeight };
          rotated++;
        } else {
          err(im.fileName, `declared as ${im.width}×${im.height} but the file is ${p.width}×${p.height}`);
          continue;
        }
      }
      frames.set(im.key, frame);
      const existing = t.findByHash(p.hash);
      const twin = byHash.get(p.hash);
      if (existing) {
        images.set(im.key, existing.id);
        known++;
        continue;
      }
      if (twin) {
        images.set(im.key, images.get(twin.key)!);
        mergedTwins++;
        warn(im.fileName, `same content as '${twin.fileName}': merged into one image`);
        continue;
      }
      if (errors.length) continue; // the import will fail: don't copy more files
      const placed = await placeMedia(t.dir, im.absPath ?? '', p.data, p.hash, p.ext, im.absPath ? (opts.mode ?? 'copy') : 'copy');
      if (placed.created) created.push(placed.created);
      created.push(await writeThumb(t.dir, p.hash, THUMB_SIZE, p.thumb));
      byHash.set(p.hash, { key: im.key, fileName: im.fileName });
      images.set(im.key, newImageFrom(p, placed, im.fileName, im.split));
    }
  } finally {
    await Promise.allSettled(ahead);
  }
  if (errors.length) fail(errors, issues);
  opts.onProgress?.({ done, total: ds.images.length });
  if (images.size === 0) {
    fail([{ level: 'error', file: '(dataset)', message: `none of its ${plural(ds.images.length, 'image')} could be imported ` +
      `(${[missing && `${missing} missing`, undecodable && `${undecodable} unreadable`].filter(Boolean).join(', ')}); the warnings say which and why` }], issues);
  }
  if (known) warn('(dataset)', `${plural(known, 'image')} ${known === 1 ? 'is' : 'are'} already in the project: ${opts.replace ? 'their annotations and split were replaced by the imported ones' : 'annotations they already have were not added again'}`);
  if (rotated) warn('(dataset)', `${plural(rotated, 'image')} ${rotated === 1 ? 'is' : 'are'} EXIF-rotated and ${rotated === 1 ? 'was' : 'were'} labelled on the stored pixels: ${rotated === 1 ? 'its' : 'their'} annotations were turned with the picture`);

  // geometry into the displayed frame, cut to the image; exact duplicates (merged twins) dropped
  const kept: VerifiedDataset['annotations'] = [];
  const seen = new Set<string>();
  const fileNames = new Map(ds.images.map((im) => [im.key, im.fileName]));
  let onSkipped = 0;
  let outside = 0;
  let duplicates = 0;
  for (const a of annotations) {
    if (skipped.has(a.imageKey)) {
      onSkipped++;
      continue;
    }
    const frame = frames.get(a.imageKey)!;
    let g = a.geometry;
    if (frame.orient) g = orientGeometry(g, frame.orient.o, frame.orient.W, frame.orient.H);
    const c = clipGeometry(g, frame.width, frame.height);
    const where = fileNames.get(a.imageKey) ?? a.imageKey;
    if (c.outside) {
      outside++;
      warn(where, `${a.className} ${a.geometry.kind}${a.sourceId !== undefined ? ` (${a.sourceId})` : ''} lies wholly outside the ${frame.width}×${frame.height} image; dropped`);
      continue;
    }
    if (c.clipped) {
      warn(where, `${a.className} ${a.geometry.kind}${a.sourceId !== undefined ? ` (${a.sourceId})` : ''} reaches outside the ${frame.width}×${frame.height} image; clipped to it`);
    }
    const target = images.get(a.imageKey)!;
    const id = typeof target === 'number' ? `#${target}` : target.hash;
    const dupKey = `${id}\u0000${a.className}\u0000${geometryKey(c.geometry)}\u0000${extrasKey(a.flags, a.attributes)}`;
    if (seen.has(dupKey)) {
      duplicates++;
      continue;
    }
    seen.add(dupKey);
    kept.push({ ...a, geometry: c.geometry });
  }
  if (onSkipped) warn('(dataset)', `${plural(onSkipped, 'annotation')} on skipped images ${onSkipped === 1 ? 'was' : 'were'} not imported`);
  if (duplicates) warn('(dataset)', `${plural(duplicates, 'annotation')} exactly repeating another on the same image (duplicate image files) ${duplicates === 1 ? 'was' : 'were'} merged`);
  if (annotations.length > 0 && kept.length === 0) {
    fail([{ level: 'error', file: '(dataset)', message: `every one of its ${plural(annotations.length, 'annotation')} was dropped ` +
      `(${[onSkipped && `${onSkipped} on skipped images`, outside && `${outside} outside their image`].filter(Boolean).join(', ')}); nothing was imported` }], issues);
  }
  const tags = new Map<string, string[]>();
  for (const im of ds.images) if (im.tags?.length && !skipped.has(im.key)) tags.set(im.key, im.tags.map((x) => x.trim()));
  return { images, classes: ds.classes, annotations: kept, warnings: issues.map(formatIssue), issues, skippedImages: skipped.size, replace: opts.replace,
    splits: new Map(ds.images.filter((im) => im.split).map((im) => [im.key, im.split!])), tags };
}

/** Flags and attributes as the store writes them, for telling exact duplicates apart. */
function extrasKey(f: { occluded?: boolean; truncated?: boolean; difficult?: boolean } | undefined, attrs: Record<string, unknown> | undefined): string {
  const a = attrs && Object.keys(attrs).length ? JSON.stringify(attrs) : '';
  return `${f?.occluded ? 1 : 0}${f?.truncated ? 1 : 0}${f?.difficult ? 1 : 0}\u0000${a}`;
}

/** Identity of a geometry as the store writes it (kind + the JSON of the rest). */
function geometryKey(g: Geometry): string {
  const { kind, ...rest } = g;
  return `${kind}\u0000${JSON.stringify(rest)}`;
}

/**
 * The single transaction of an import (also used directly by the store benchmark with synthetic metadata).
 * Existing classes are matched by name; new ones get the next colours and orders. Images already in the
 * project keep their annotations and get only those they lack (re-importing a dataset adds nothing), or,
 * with `replace`, lose theirs for the imported ones. When nothing changes, no revision is written.
 */
export function insertVerified(st: Statements, v: VerifiedDataset, now = Date.now()): ImportResult {
  return st.db.transaction((): ImportResult => {
    const classIds = new Map<string, number>();
    let newClasses = 0;
    let { n: classCount, o: maxOrd } = st.get<[], { n: number; o: number | null }>('SELECT COUNT(*) AS n, MAX(ord) AS o FROM classes').get() as { n: number; o: number };
    const findClass = st.get<[string], { id: number; attributes: string | null }>('SELECT id, attributes FROM classes WHERE name = ?');
    const insClass = st.get('INSERT INTO classes (name, color, hotkey, ord, source_id, attributes) VALUES (?, ?, NULL, ?, ?, ?)');
    const setDefs = st.get('UPDATE classes SET attributes = ? WHERE id = ?');
    let defsChanged = 0;
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
        if (d !== found.attributes) {
          setDefs.run(d, found.id);
          defsChanged++;
        }
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
    const existingIds = new Set<number>();
    for (const [key, im] of v.images) {
      if (typeof im === 'number') {
        imageIds.set(key, im);
        existingIds.add(im);
        continue;
      }
      let id = inserted.get(im);
      if (id === undefined) {
        id = Number(insImage.run(im.hash, im.path, im.linked ? 1 : 0, im.fileName, im.format, im.bytes, im.width, im.height, im.orientation, im.split ?? 'train', now).lastInsertRowid);
        inserted.set(im, id);
      }
      imageIds.set(key, id);
    }

    // what images already in the project carry (human annotations), to add only what they lack
    const have = new Set<string>();
    let removed = 0;
    if (existingIds.size) {
      const rows = st.get<[number], { kind: string; geometry: string; name: string; occluded: number; truncated: number; difficult: number; attributes: string | null }>(
        `SELECT a.kind, a.geometry, c.name, a.occluded, a.truncated, a.difficult, a.attributes FROM annotations a JOIN classes c ON c.id = a.class_id
         WHERE a.image_id = ? AND a.source = 'human'`,
      );
      const del = st.get<[number]>(`DELETE FROM annotations WHERE image_id = ? AND source = 'human'`);
      const setSplit = st.get<[string, number]>('UPDATE images SET split = ? WHERE id = ?');
      const splitOf = new Map<number, string | undefined>();
      if (v.replace) for (const [key, im] of v.images) if (typeof im === 'number') splitOf.set(im, splitFor(v, key));
      for (const id of existingIds) {
        if (v.replace) {
          removed += del.run(id).changes;
          const s = splitOf.get(id);
          if (s) setSplit.run(s, id);
        } else {
          for (const r of rows.all(id)) {
            const extras = extrasKey({ occluded: !!r.occluded, truncated: !!r.truncated, difficult: !!r.difficult }, r.attributes ? JSON.parse(r.attributes) : undefined);
            have.add(`${id}\u0000${r.name}\u0000${r.kind}\u0000${r.geometry}\u0000${extras}`);
          }
        }
      }
    }

    const insAnn = st.get(
      `INSERT INTO annotations (id, image_id, class_id, kind, geometry, source, score, model_version, iscrowd, source_id, created_at, updated_at,
         occluded, truncated, difficult, attributes)
       VALUES (?, ?, ?, ?, ?, 'human', ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const touched = new Set<number>(v.replace ? existingIds : []);
    let added = 0;
    for (const a of v.annotations) {
      const imageId = imageIds.get(a.imageKey)!;
      const { kind, ...rest } = a.geometry;
      const geometry = JSON.stringify(rest);
      const f = a.flags ?? {};
      const attrs = a.attributes && Object.keys(a.attributes).length ? JSON.stringify(a.attributes) : null;
      if (have.has(`${imageId}\u0000${a.className}\u0000${kind}\u0000${geometry}\u0000${extrasKey(f, a.attributes)}`)) continue;
      insAnn.run(randomUUID(), imageId, classIds.get(a.className)!, kind, geometry, a.score ?? null, a.iscrowd ? 1 : 0,
        a.sourceId === undefined ? null : String(a.sourceId), now, now, f.occluded ? 1 : 0, f.truncated ? 1 : 0, f.difficult ? 1 : 0, attrs);
      touched.add(imageId);
      added++;
    }
    // images merged into one (same content) or already in the project keep the union of their tags
    const insTag = st.get('INSERT OR IGNORE INTO image_tags (image_id, tag) VALUES (?, ?)');
    let tagsAdded = 0;
    for (const [key, tags] of v.tags ?? []) {
      const imageId = imageIds.get(key);
      if (imageId !== undefined) for (const t of tags) tagsAdded += insTag.run(imageId, t).changes;
    }
    refreshStatus(st, touched);

    const unchanged = inserted.size === 0 && added === 0 && newClasses === 0 && removed === 0 && tagsAdded === 0 && defsChanged === 0 && !v.replace;
    if (!unchanged) bumpRevision(st, v.label ?? 'import dataset', [added, 0, removed], now);
    const issues = v.issues ?? v.warnings.map((w) => ({ level: 'warning' as const, file: '', message: w }));
    return { images: inserted.size, annotations: added, classes: newClasses, warnings: v.warnings, issues, skippedImages: v.skippedImages ?? 0, unchanged };
  }).immediate();
}

function splitFor(v: VerifiedDataset, key: string): string | undefined {
  return v.splits?.get(key);
}

/** Removes files an import created before it failed. */
export function removeCreated(files: string[]): void {
  for (const f of files) rmSync(f, { force: true });
}
