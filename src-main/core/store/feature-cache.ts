// Index of cached frozen-backbone features (the files live under cache/features/). The trainer looks entries
// up by (image hash, backbone, input size, params version), and the cache is trimmed least-recently-used first.
import { rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Statements } from './db';

export interface FeatureKey {
  imageHash: string;
  backbone: string;
  size: number;
  paramsVersion: string;
}

export interface FeatureEntry extends FeatureKey {
  /** relative to the project dir */
  path: string;
  bytes: number;
  lastUsed: number;
}

interface Row {
  image_hash: string;
  backbone: string;
  size: number;
  params_version: string;
  path: string;
  bytes: number;
  last_used: number;
}
const fromRow = (r: Row): FeatureEntry => ({
  imageHash: r.image_hash, backbone: r.backbone, size: r.size, paramsVersion: r.params_version, path: r.path, bytes: r.bytes, lastUsed: r.last_used,
});

const WHERE = 'image_hash = ? AND backbone = ? AND size = ? AND params_version = ?';
const keyArgs = (k: FeatureKey) => [k.imageHash, k.backbone, k.size, k.paramsVersion] as const;

export class FeatureCacheIndex {
  constructor(private readonly st: Statements, private readonly dir: string) {}

  /** Looks an entry up and marks it used. */
  get(k: FeatureKey): FeatureEntry | null {
    const r = this.st.get<unknown[], Row>(`SELECT * FROM feature_cache WHERE ${WHERE}`).get(...keyArgs(k));
    if (!r) return null;
    const now = Date.now();
    this.st.get(`UPDATE feature_cache SET last_used = ? WHERE ${WHERE}`).run(now, ...keyArgs(k));
    return { ...fromRow(r), lastUsed: now };
  }

  put(e: Omit<FeatureEntry, 'lastUsed'>): void {
    const abs = resolve(this.dir, e.path);
    const rel = relative(this.dir, abs);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`feature cache path ${e.path} is outside the project`);
    this.st.get(
      `INSERT INTO feature_cache (image_hash, backbone, size, params_version, path, bytes, last_used) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (image_hash, backbone, size, params_version) DO UPDATE SET path = excluded.path, bytes = excluded.bytes, last_used = excluded.last_used`,
    ).run(...keyArgs(e), rel, e.bytes, Date.now());
  }

  delete(k: FeatureKey): boolean {
    const r = this.st.get<unknown[], Row>(`SELECT * FROM feature_cache WHERE ${WHERE}`).get(...keyArgs(k));
    if (!r) return false;
    this.st.get(`DELETE FROM feature_cache WHERE ${WHERE}`).run(...keyArgs(k));
    rmSync(join(this.dir, r.path), { force: true });
    return true;
  }

  stats(): { entries: number; bytes: number } {
    const r = this.st.get<[], { n: number; b: number | null }>('SELECT COUNT(*) AS n, SUM(bytes) AS b FROM feature_cache').get()!;
    return { entries: r.n, bytes: r.b ?? 0 };
  }

  /** Removes least-recently-used entries (rows and files) until the cache holds at most `maxBytes`. */
  evict(maxBytes: number): { removed: number; bytes: number } {
    let { bytes } = this.stats();
    let removed = 0;
    const freed0 = bytes;
    const rows = this.st.get<[], Row>('SELECT * FROM feature_cache ORDER BY last_used, rowid').all();
    for (const r of rows) {
      if (bytes <= maxBytes) break;
      this.st.get(`DELETE FROM feature_cache WHERE ${WHERE}`).run(r.image_hash, r.backbone, r.size, r.params_version);
      rmSync(join(this.dir, r.path), { force: true });
      bytes -= r.bytes;
      removed++;
    }
    return { removed, bytes: freed0 - bytes };
  }
}
