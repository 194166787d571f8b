// The on-disk layout of a project folder, in one place so the store, ingest, trainer and exporters agree.
import { join } from 'node:path';

export const PROJECT_DB = 'project.sqlite';

export const projectPaths = (dir: string) => ({
  dir,
  db: join(dir, PROJECT_DB),
  /** imported images, content-addressed: media/ab/abcdef….jpg */
  media: join(dir, 'media'),
  /** side-net weights and exported models, one folder per model version */
  models: join(dir, 'models'),
  /** derived data that can always be rebuilt: thumbnails and cached backbone features */
  cache: join(dir, 'cache'),
  thumbs: join(dir, 'cache', 'thumbs'),
  features: join(dir, 'cache', 'features'),
});
export type ProjectPaths = ReturnType<typeof projectPaths>;

/** Relative (to the project dir) path of a content-addressed media file. */
export function mediaRelPath(hash: string, ext: string): string {
  return join('media', hash.slice(0, 2), `${hash}.${ext}`);
}

/** Relative path of a cached thumbnail. */
export function thumbRelPath(hash: string, size: number): string {
  return join('cache', 'thumbs', String(size), hash.slice(0, 2), `${hash}.webp`);
}
