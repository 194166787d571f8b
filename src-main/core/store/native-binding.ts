// better-sqlite3 is a native addon compiled against one ABI. Plain Node (CLI, server, tests) uses the copy
// npm built in node_modules; Electron has a different ABI, so scripts/rebuild-electron.mjs compiles a second
// copy into build/electron-native/ and the store hands its path to better-sqlite3's `nativeBinding` option
// when running inside Electron. node_modules is never rebuilt in place, so both runtimes work side by side.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ELECTRON_NATIVE_DIR = join('build', 'electron-native');
export const ELECTRON_BINDING_FILE = 'better_sqlite3.node';
export const ELECTRON_MANIFEST_FILE = 'manifest.json';

export interface NativeBindingOptions {
  /** process.versions (override in tests). */
  versions?: Partial<Record<string, string | undefined>>;
  /** Package root (the folder with hst-studio's package.json); found from this module's location by default. */
  root?: string;
}

/** Walks up from `start` to the folder whose package.json is hst-studio's (works in dist/ and inside app.asar). */
export function findPackageRoot(start: string = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hst-studio') return dir;
      } catch {
        // unreadable package.json: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Native files cannot be loaded from inside an asar archive: electron-builder unpacks them next to it. */
export function unpackedPath(p: string): string {
  return p.replace(`${sep}app.asar${sep}`, `${sep}app.asar.unpacked${sep}`);
}

/**
 * The `nativeBinding` to pass to `new Database(path, { nativeBinding })`: undefined under plain Node (use
 * better-sqlite3's own build), the Electron-ABI copy under Electron. Throws a sentence saying what to run
 * when that copy is missing or was built for another Electron version.
 */
export function resolveNativeBinding(opts: NativeBindingOptions = {}): string | undefined {
  const versions = opts.versions ?? process.versions;
  const electron = versions.electron;
  if (!electron) return undefined;
  const root = opts.root ?? findPackageRoot();
  if (!root) throw new Error('cannot locate the hst-studio package folder to load the Electron build of better-sqlite3');
  const dir = join(root, ELECTRON_NATIVE_DIR);
  const file = unpackedPath(join(dir, ELECTRON_BINDING_FILE));
  if (!existsSync(file)) {
    throw new Error(`better-sqlite3 has no Electron build (${file} is missing): run \`node scripts/rebuild-electron.mjs\` once after npm install`);
  }
  const manifestPath = unpackedPath(join(dir, ELECTRON_MANIFEST_FILE));
  if (existsSync(manifestPath)) {
    let built: string | undefined;
    try {
      built = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { electronVersion?: string }).electronVersion;
    } catch {
      built = undefined;
    }
    if (built && built !== electron) {
      throw new Error(`the Electron build of better-sqlite3 was made for Electron ${built} but this is Electron ${electron}: run \`node scripts/rebuild-electron.mjs\` again`);
    }
  }
  return file;
}
