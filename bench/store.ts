// Store benchmark (issue 4): COCO metadata import of 10,000 images / 200,000 annotations, one image's
// annotations query, 1-annotation changesets, and export back to COCO. Image decoding is skipped (files do not
// exist; the store's verified-insert path is timed with synthetic hashes) — decoding cost is per-image and
// belongs to ingest, not to the store.
// Run: npm run bench -- store   (or: node scripts/build.mjs --no-renderer && node dist/bench/run.js store)
import { createHash, randomUUID } from 'node:crypto';
import type { BenchTable } from './types';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Annotation } from '../src-main/contract/schemas';
import { exportCoco } from '../src-main/core/datasets/coco-export';
import { importCoco } from '../src-main/core/datasets/coco-import';
import { countsToString } from '../src-main/core/geometry/rle';
import type { NewImage } from '../src-main/core/ingest/ingest';
import { insertVerified, type VerifiedDataset } from '../src-main/core/store/dataset-import';
import { createProject, type SqliteProjectStore } from '../src-main/core/store/project';

interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

const N_IMAGES = 10_000;
const N_ANNS = 200_000;
const N_CLASSES = 20;
const W = 1280;
const H = 960;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Compressed COCO RLE of a filled rectangle (column-major runs: background, then h on / H-h off per column). */
function rectCounts(x: number, y: number, w: number, h: number): string {
  const counts = [x * H + y];
  for (let c = 0; c < w; c++) counts.push(h, c === w - 1 ? H * W - (x + w) * H + (H - y - h) : H - h);
  return countsToString(counts);
}

function cocoJson(): object {
  const r = rng(42);
  const images = Array.from({ length: N_IMAGES }, (_, i) => ({ id: i + 1, file_name: `img_${String(i).padStart(5, '0')}.jpg`, width: W, height: H }));
  const categories = Array.from({ length: N_CLASSES }, (_, k) => ({ id: 100 + k * 3, name: `class ${k}` }));
  const annotations = Array.from({ length: N_ANNS }, (_, i) => {
    const x = Math.floor(r() * (W - 200));
    const y = Math.floor(r() * (H - 200));
    const w = 10 + Math.floor(r() * 180);
    const h = 10 + Math.floor(r() * 180);
    const kind = r();
    const base = { id: i + 1, image_id: 1 + (i % N_IMAGES), category_id: 100 + Math.floor(r() * N_CLASSES) * 3, bbox: [x, y, w, h], area: w * h, iscrowd: 0 };
    if (kind < 0.6) return base;
    if (kind < 0.9) {
      const ring: number[] = [];
      for (let k = 0; k < 12; k++) {
        const a = (k / 12) * 2 * Math.PI;
        ring.push(+(x + w / 2 + (w / 2) * Math.cos(a)).toFixed(2), +(y + h / 2 + (h / 2) * Math.sin(a)).toFixed(2));
      }
      return { ...base, segmentation: [ring] };
    }
    return { ...base, iscrowd: 1, segmentation: { size: [H, W], counts: rectCounts(x, y, w, h) } };
  });
  return { images, categories, annotations };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

const cpuMs = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

/** Wall-clock and CPU time per changeset (CPU time shows the cost without other processes' scheduling noise). */
function changesetTimes(store: SqliteProjectStore, n: number): { wall: number[]; cpu: number[] } {
  const r = rng(7);
  const classes = store.listClasses();
  const times: number[] = [];
  const cpu: number[] = [];
  let last: Annotation | null = null;
  for (let i = 0; i < n; i++) {
    const imageId = 1 + Math.floor(r() * N_IMAGES);
    const now = Date.now();
    // mostly "draw a box", some "move the last box" and "delete it" — what a labelling session does
    const op = i % 10;
    let cs;
    if (last && op === 8) {
      const moved: Annotation = { ...last, geometry: { kind: 'box', x: 5, y: 6, w: 7, h: 8 }, updatedAt: now };
      cs = { updated: [{ before: last, after: moved }] };
      last = moved;
    } else if (last && op === 9) {
      cs = { deleted: [last] };
      last = null;
    } else {
      last = { id: randomUUID(), imageId, classId: classes[i % classes.length].id, geometry: { kind: 'box', x: 1, y: 2, w: 30, h: 40 }, source: 'human', score: null, modelVersion: null, createdAt: now, updatedAt: now };
      cs = { created: [last] };
    }
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    store.apply(cs);
    times.push(ms(t0));
    cpu.push(cpuMs(c0));
  }
  return { wall: times, cpu };
}

export async function run(): Promise<BenchTable> {
  const tmp = mkdtempSync(join(tmpdir(), 'hst-bench-store-'));
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  try {
    const src = join(tmp, 'coco');
    mkdirSync(src);
    const jsonPath = join(src, 'annotations.json');
    writeFileSync(jsonPath, JSON.stringify(cocoJson()));

    let c0 = process.cpuUsage();
    let t0 = process.hrtime.bigint();
    const ds = await importCoco(jsonPath, { imagesDir: src });
    const tParse = ms(t0);
    const cParse = cpuMs(c0);
    if (ds.annotations.length !== N_ANNS || ds.images.length !== N_IMAGES) throw new Error(`COCO import produced ${ds.images.length} images / ${ds.annotations.length} annotations`);
    if (ds.issues.some((i) => i.level === 'error')) throw new Error(`COCO import reported errors: ${ds.issues.find((i) => i.level === 'error')!.message}`);

    const store = createProject(join(tmp, 'project'));
    c0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    // What verifyDataset would produce after decoding: one NewImage per dataset image.
    const images = new Map<string, NewImage>();
    for (const im of ds.images) {
      const hash = createHash('sha256').update(im.key).digest('hex');
      images.set(im.key, { hash, path: `media/${hash.slice(0, 2)}/${hash}.jpg`, linked: false, fileName: im.fileName, format: 'jpeg', bytes: 1, width: im.width, height: im.height, orientation: 1, split: im.split });
    }
    const v: VerifiedDataset = { images, classes: ds.classes, annotations: ds.annotations as VerifiedDataset['annotations'], warnings: [] };
    const res = insertVerified(store.st, v);
    const tInsert = ms(t0);
    const cInsert = cpuMs(c0);
    if (res.annotations !== N_ANNS) throw new Error(`inserted ${res.annotations} annotations`);
    rows.push({ metric: 'COCO parse + validate (importCoco)', value: round(tParse / 1000), unit: 's' });
    rows.push({ metric: 'store insert, one transaction', value: round(tInsert / 1000), unit: 's' });
    rows.push({ metric: '(CPU time of parse + insert)', value: round((cParse + cInsert) / 1000), unit: 's' });
    rows.push({ metric: `import ${N_IMAGES.toLocaleString('en-US')} images + ${N_ANNS.toLocaleString('en-US')} annotations (total)`, value: round((tParse + tInsert) / 1000), unit: 's', target: '≤ 30 s', pass: tParse + tInsert <= 30_000 });

    const r = rng(3);
    const q: number[] = [];
    const qc: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const id = 1 + Math.floor(r() * N_IMAGES);
      const c = process.cpuUsage();
      const t = process.hrtime.bigint();
      store.annotationsOf(id);
      q.push(ms(t));
      qc.push(cpuMs(c));
    }
    rows.push({ metric: "query one image's annotations (~20 each), p50", value: round(pct(q, 50)), unit: 'ms' });
    rows.push({ metric: "query one image's annotations, p99", value: round(pct(q, 99)), unit: 'ms', target: '≤ 2 ms', pass: pct(q, 99) <= 2 });
    rows.push({ metric: '(CPU time per query, p99)', value: round(pct(qc, 99)), unit: 'ms' });

    changesetTimes(store, 200); // warm-up: statement preparation, page cache
    store.checkpoint();
    const c = changesetTimes(store, 3000);
    rows.push({ metric: '1-annotation changeset (synchronous=NORMAL), p50', value: round(pct(c.wall, 50)), unit: 'ms' });
    rows.push({ metric: '1-annotation changeset (synchronous=NORMAL), p99', value: round(pct(c.wall, 99)), unit: 'ms', target: '≤ 5 ms', pass: pct(c.wall, 99) <= 5 });
    rows.push({ metric: '(CPU time per changeset, p99)', value: round(pct(c.cpu, 99)), unit: 'ms' });
    store.db.pragma('synchronous = FULL');
    const cf = changesetTimes(store, 1000);
    store.db.pragma('synchronous = NORMAL');
    rows.push({ metric: '1-annotation changeset with synchronous=FULL (for comparison), p50', value: round(pct(cf.wall, 50)), unit: 'ms' });
    rows.push({ metric: '1-annotation changeset with synchronous=FULL (for comparison), p99', value: round(pct(cf.wall, 99)), unit: 'ms' });

    t0 = process.hrtime.bigint();
    const out = store.toDataset();
    const tToDs = ms(t0);
    t0 = process.hrtime.bigint();
    await exportCoco(out, join(tmp, 'export'), { images: 'none' });
    const tWrite = ms(t0);
    rows.push({ metric: 'store → neutral dataset (toDataset)', value: round(tToDs / 1000), unit: 's' });
    rows.push({ metric: 'export to COCO JSON (toDataset + exportCoco, no image copies)', value: round((tToDs + tWrite) / 1000), unit: 's' });
    notes.push(`${out.annotations.length.toLocaleString('en-US')} annotations exported (200,000 imported + the changeset benchmark's net creations).`);
    notes.push('Annotations: 60% boxes, 30% 12-point polygons, 10% RLE masks; 20 classes with non-contiguous COCO ids.');
    notes.push(`Node ${process.version}, ${process.platform}, ${os.cpus().length} cores; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} ` +
      'while measuring (the machine is shared): wall-clock p99s include time spent waiting for a core; the CPU-time rows do not.');
    store.close();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return {
    title: 'Project store (SQLite)',
    columns: ['metric', 'value', 'target', 'ok'],
    rows: rows.map((r) => [r.metric, `${r.value} ${r.unit}`, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'yes' : 'NO']),
    notes,
  };
}
