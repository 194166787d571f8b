// Where a built worker thread file is: next to the running module (bundled in dist/main/**), or under
// dist/main/core/training/ of the checkout when the caller runs from the source tree (tests, tools).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function findWorkerFile(file: string, from: string): string {
  const rel = ['core', 'training', file];
  let dir = from;
  for (let i = 0; i < 8; i++) {
    for (const c of [join(dir, file), join(dir, ...rel), join(dir, 'dist', 'main', ...rel)]) if (existsSync(c)) return c;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`the worker dist/main/core/training/${file} was not found near ${from}; run \`node scripts/build.mjs\``);
}
