import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { electronMainScript, findElectronBinary, launchElectron } from '../../src-main/cli/electron-launcher';

const tmp = mkdtempSync(join(tmpdir(), 'hst-launch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function project(name: string, opts: { electronPkg?: 'ok' | 'broken'; built?: boolean } = {}): string {
  const root = join(tmp, name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'hst-studio', type: 'module' }));
  if (opts.built) {
    mkdirSync(join(root, 'dist', 'main', 'electron'), { recursive: true });
    writeFileSync(join(root, 'dist', 'main', 'electron', 'main.js'), '');
  }
  if (opts.electronPkg) {
    const pkg = join(root, 'node_modules', 'electron');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'electron', main: 'index.js' }));
    // The real package exports the binary path, or throws when its download never happened.
    const bin = join(root, 'fake-electron');
    writeFileSync(bin, `#!/bin/sh\necho "$*|$ELECTRON_RUN_AS_NODE" > "${join(root, 'spawned.txt')}"\nexit 3\n`);
    chmodSync(bin, 0o755);
    writeFileSync(join(pkg, 'index.js'), opts.electronPkg === 'ok' ? `module.exports = ${JSON.stringify(bin)};` : `throw new Error('Electron failed to install correctly, please delete node_modules/electron and try installing it again');`);
  }
  return root;
}

describe('findElectronBinary', () => {
  it('reports a missing electron package', () => {
    const r = findElectronBinary({ root: project('none'), env: {} });
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/Electron is not installed/) });
  });

  it('reports a package whose binary was never downloaded', () => {
    const r = findElectronBinary({ root: project('broken', { electronPkg: 'broken' }), env: {} });
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/present but its binary is not: Electron failed to install correctly/) });
  });

  it('finds the binary through the package', () => {
    const root = project('ok', { electronPkg: 'ok' });
    expect(findElectronBinary({ root, env: {} })).toEqual({ ok: true, path: join(root, 'fake-electron') });
  });

  it('HST_ELECTRON_PATH overrides, and must exist', () => {
    const root = project('ok2', { electronPkg: 'ok' });
    expect(findElectronBinary({ root, env: { HST_ELECTRON_PATH: join(root, 'fake-electron') } })).toEqual({ ok: true, path: join(root, 'fake-electron') });
    expect(findElectronBinary({ root, env: { HST_ELECTRON_PATH: '/nope/electron' } })).toEqual({ ok: false, reason: expect.stringMatching(/does not exist/) });
  });
});

describe('launchElectron', () => {
  it('returns launched:false with the reason when Electron is absent', async () => {
    expect(await launchElectron({ root: project('absent', { built: true }), env: {} })).toEqual({ launched: false, reason: expect.stringMatching(/Electron is not installed/) });
  });

  it('returns launched:false when the app is not built', async () => {
    expect(await launchElectron({ root: project('unbuilt', { electronPkg: 'ok' }), env: {} })).toEqual({ launched: false, reason: expect.stringMatching(/not built .*npm run build/) });
  });

  it('spawns the binary on dist/main/electron/main.js with the extra args and reports its exit code', async () => {
    const root = project('runs', { electronPkg: 'ok', built: true });
    const r = await launchElectron({ root, env: { ELECTRON_RUN_AS_NODE: '1', PATH: process.env.PATH }, args: ['--project', '/p'], stdio: 'ignore' });
    expect(r).toEqual({ launched: true, exitCode: 3 });
    // ELECTRON_RUN_AS_NODE is removed: it would turn Electron into plain Node.
    expect(readFileSync(join(root, 'spawned.txt'), 'utf8').trim()).toBe(`${electronMainScript(root)} --project /p|`);
    expect(electronMainScript(root)).toBe(join(root, 'dist', 'main', 'electron', 'main.js'));
  });

  it('a binary that cannot be executed is launched:false, not a crash', async () => {
    const root = project('noexec', { built: true });
    const r = await launchElectron({ root, env: {}, electronPath: join(root, 'package.json'), stdio: 'ignore' });
    expect(r).toEqual({ launched: false, reason: expect.stringMatching(/could not start Electron/) });
  });
});
