// Where a built worker thread file is: next to the running module (bundled in dist/main/**), or under
// dist/main/<dir> of the checkout when the caller runs from the source tree (tests, tools). Lives at the root of
// core because both jobs/ (the job worker) and training/ (the gradient helpers) start threads.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** `rel` is the worker's path under dist/main, e.g. 'core/jobs/worker-train.js'. */
export function findWorkerFile(rel: string, from: string): string {
  const parts = rel.split('/');
  const file = parts[parts.length - 1]!;
  let dir = from;
  for (let i = 0; i < 8; i++) {
    for (const c of [join(dir, file), join(dir, ...parts), join(dir, 'dist', 'main', ...parts)]) if (existsSync(c)) return c;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`the worker dist/main/${rel} was not found near ${from}; run \`node scripts/build.mjs\``);
}
