// Builds dist/ once before any test file runs. Test files that need the built worker, CLI or renderer use it
// as is: a file that rebuilt it for itself deleted dist/main under the files running beside it (CI saw the
// training worker "not found" mid-suite).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: root, stdio: 'inherit' });
}
