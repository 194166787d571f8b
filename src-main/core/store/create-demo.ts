// A new project pre-filled with the synthetic shapes demo (images + masks), so a first-time user can train
// and label at once. The demo files are generated in a temporary folder and copied into media/.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemo } from '../demo/index';
import { createProject, type OpenOptions, type SqliteProjectStore } from './project';
import type { IngestOptions } from './types';

export async function createDemoProject(
  dir: string,
  opts: { name?: string; count?: number; onProgress?: IngestOptions['onProgress']; signal?: AbortSignal } & OpenOptions = {},
): Promise<SqliteProjectStore> {
  const store = createProject(dir, { name: opts.name ?? 'Shapes demo', synchronous: opts.synchronous });
  const tmp = await mkdtemp(join(tmpdir(), 'hst-demo-'));
  try {
    const ds = await generateDemo(tmp, opts.count ? { count: opts.count } : {});
    await store.importDataset(ds, { mode: 'copy', onProgress: opts.onProgress, signal: opts.signal });
    return store;
  } catch (err) {
    store.close();
    throw new Error(`the demo data could not be created: ${(err as Error).message}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
