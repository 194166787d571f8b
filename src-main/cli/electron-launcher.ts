// `npm start` / `hst-studio start`: run the desktop app when an Electron binary is installed. Pure Node —
// it never imports Electron, it only asks the `electron` npm package (an optional dependency) where its
// binary is, and spawns it on the built main-process bundle.
import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from '../core/store/native-binding';

export type ElectronLookup = { ok: true; path: string } | { ok: false; reason: string };

export type LaunchResult = { launched: true; exitCode: number } | { launched: false; reason: string };

export interface LaunchOptions {
  /** Extra arguments for the app (after the main script), e.g. ['--project', dir]. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  /** Package root; found from this module by default. */
  root?: string;
  /** Override the binary (HST_ELECTRON_PATH does the same from the environment). */
  electronPath?: string;
}

/**
 * Where the Electron binary is: HST_ELECTRON_PATH, else the `electron` package (whose main export is the
 * binary's path; it throws when its postinstall download never happened).
 */
export function findElectronBinary(opts: { root?: string; env?: NodeJS.ProcessEnv } = {}): ElectronLookup {
  const env = opts.env ?? process.env;
  const override = env.HST_ELECTRON_PATH;
  if (override) return existsSync(override) ? { ok: true, path: override } : { ok: false, reason: `HST_ELECTRON_PATH points to ${override}, which does not exist` };
  const root = opts.root ?? findPackageRoot() ?? process.cwd();
  const req = createRequire(join(root, 'package.json'));
  let pkgMain: string;
  try {
    pkgMain = req.resolve('electron');
  } catch {
    return { ok: false, reason: 'Electron is not installed (it is an optional dependency; `npm install electron` where its binary can be downloaded)' };
  }
  let path: unknown;
  try {
    path = req(pkgMain);
  } catch (err) {
    return { ok: false, reason: `the electron package is present but its binary is not: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  if (typeof path !== 'string' || !existsSync(path)) return { ok: false, reason: `the electron package points to ${String(path)}, which does not exist` };
  return { ok: true, path };
}

export function electronMainScript(root: string): string {
  return join(root, 'dist', 'main', 'electron', 'main.js');
}

/**
 * Starts the desktop app and resolves when it exits. Resolves `{ launched: false, reason }` (never throws)
 * when there is no Electron binary, the app is not built, or the process cannot be spawned, so the caller
 * can fall back to server mode and tell the user why.
 */
export function launchElectron(opts: LaunchOptions = {}): Promise<LaunchResult> {
  const root = opts.root ?? findPackageRoot(dirname(fileURLToPath(import.meta.url))) ?? process.cwd();
  const found = opts.electronPath ? { ok: true as const, path: opts.electronPath } : findElectronBinary({ root, env: opts.env });
  if (!found.ok) return Promise.resolve({ launched: false, reason: found.reason });
  const mainJs = electronMainScript(root);
  if (!existsSync(mainJs)) return Promise.resolve({ launched: false, reason: `the desktop app is not built (${mainJs} is missing): run \`npm run build\`` });
  const env = { ...(opts.env ?? process.env) };
  // Would turn the Electron binary into a plain Node and run main.js without any Electron API.
  delete env.ELECTRON_RUN_AS_NODE;
  return new Promise((resolve) => {
    let settled = false;
    const child = spawn(found.path, [mainJs, ...(opts.args ?? [])], { cwd: root, env, stdio: opts.stdio ?? 'inherit' });
    child.once('error', (err) => {
      if (settled) return;
      settled = true;
      resolve({ launched: false, reason: `could not start Electron (${found.path}): ${err.message}` });
    });
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      resolve({ launched: true, exitCode: code ?? (signal ? 1 : 0) });
    });
  });
}
