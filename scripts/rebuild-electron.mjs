#!/usr/bin/env node
// Builds an Electron-ABI copy of better-sqlite3 into build/electron-native/better_sqlite3.node, WITHOUT
// touching node_modules (whose copy stays on Node's ABI for the CLI, the server and the tests). The store
// loads the copy through better-sqlite3's `nativeBinding` option when process.versions.electron is set
// (src-main/core/store/native-binding.ts). Run once after `npm install` wherever Electron is installed:
//
//   node scripts/rebuild-electron.mjs [--electron-version 39.5.0] [--arch x64] [--dry-run]
//
// It needs the Electron headers (downloaded from electronjs.org by @electron/rebuild, or a prebuilt binary
// from better-sqlite3's releases) and a C++ toolchain, so it cannot run on a machine without internet.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));

/** Electron version to target: --electron-version, else the installed electron package, else package.json's pin. */
export function electronVersionFor(projectRoot = root, explicit) {
  if (explicit) return explicit;
  const installed = join(projectRoot, 'node_modules', 'electron', 'package.json');
  if (existsSync(installed)) return JSON.parse(readFileSync(installed, 'utf8')).version;
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
  const spec = pkg.optionalDependencies?.electron ?? pkg.devDependencies?.electron ?? pkg.dependencies?.electron;
  if (!spec) throw new Error('no Electron version: install electron or pass --electron-version');
  const m = /(\d+\.\d+\.\d+(?:-[\w.]+)?)/.exec(spec);
  if (!m) throw new Error(`cannot read an Electron version from package.json's "${spec}": pass --electron-version`);
  return m[1];
}

/** Everything the rebuild will do, as data (what --dry-run prints and the tests check). */
export function planRebuild({ projectRoot = root, electronVersion, arch = process.arch } = {}) {
  const sqlitePkgJson = createRequire(join(projectRoot, 'package.json')).resolve('better-sqlite3/package.json');
  const sqliteDir = dirname(sqlitePkgJson);
  const outDir = join(projectRoot, 'build', 'electron-native');
  const workDir = join(outDir, 'work');
  return {
    electronVersion: electronVersionFor(projectRoot, electronVersion),
    arch,
    platform: process.platform,
    betterSqlite3: { dir: sqliteDir, version: JSON.parse(readFileSync(sqlitePkgJson, 'utf8')).version },
    workDir,
    workModule: join(workDir, 'node_modules', 'better-sqlite3'),
    output: join(outDir, 'better_sqlite3.node'),
    manifest: join(outDir, 'manifest.json'),
  };
}

export async function rebuildForElectron(plan, log = console.log) {
  rmSync(plan.workDir, { recursive: true, force: true });
  mkdirSync(plan.workModule, { recursive: true });
  // A private copy of the package (sources + bundled SQLite amalgamation), minus any Node-ABI build output.
  cpSync(plan.betterSqlite3.dir, plan.workModule, {
    recursive: true,
    filter: (src) => !/[\\/](build|prebuilds|node_modules)([\\/]|$)/.test(relative(plan.betterSqlite3.dir, src) ? `/${relative(plan.betterSqlite3.dir, src)}` : ''),
  });
  writeFileSync(join(plan.workDir, 'package.json'), JSON.stringify({ name: 'hst-electron-native', private: true, dependencies: { 'better-sqlite3': plan.betterSqlite3.version } }, null, 2));
  try {
    await rebuildInWorkDir(plan, log);
  } finally {
    rmSync(plan.workDir, { recursive: true, force: true });
  }
}

async function rebuildInWorkDir(plan, log) {
  const { rebuild } = require('@electron/rebuild');
  log(`rebuilding better-sqlite3 ${plan.betterSqlite3.version} for Electron ${plan.electronVersion} (${plan.platform}-${plan.arch})…`);
  try {
    await rebuild({ buildPath: plan.workDir, electronVersion: plan.electronVersion, arch: plan.arch, onlyModules: ['better-sqlite3'], force: true, mode: 'sequential' });
  } catch (err) {
    throw new Error(
      `@electron/rebuild failed: ${err?.message ?? err}\n` +
        'It needs the Electron headers (or a better-sqlite3 prebuilt binary) from the internet and a C++ toolchain (python3, make, g++ / MSVC / Xcode).',
    );
  }
  const built = join(plan.workModule, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(built)) throw new Error(`the rebuild finished but produced no ${built}`);
  copyFileSync(built, plan.output);
  writeFileSync(
    plan.manifest,
    JSON.stringify({ electronVersion: plan.electronVersion, platform: plan.platform, arch: plan.arch, betterSqlite3: plan.betterSqlite3.version, builtAt: new Date().toISOString() }, null, 2),
  );
  log(`wrote ${relative(root, plan.output)} (+ manifest.json)`);
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: { 'electron-version': { type: 'string' }, arch: { type: 'string' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    console.log('Usage: node scripts/rebuild-electron.mjs [--electron-version X.Y.Z] [--arch x64|arm64] [--dry-run]');
    return 0;
  }
  const plan = planRebuild({ electronVersion: values['electron-version'], arch: values.arch });
  if (values['dry-run']) {
    console.log(JSON.stringify(plan, null, 2));
    return 0;
  }
  await rebuildForElectron(plan);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(`rebuild-electron: ${err?.message ?? err}`);
      process.exitCode = 1;
    },
  );
}
