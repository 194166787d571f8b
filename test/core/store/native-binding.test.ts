import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPackageRoot, resolveNativeBinding, unpackedPath } from '../../../src-main/core/store/native-binding';

const tmp = mkdtempSync(join(tmpdir(), 'hst-native-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fakeRoot(name: string, manifest?: object, binding = true): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'build', 'electron-native'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'hst-studio' }));
  if (binding) writeFileSync(join(root, 'build', 'electron-native', 'better_sqlite3.node'), 'ELF');
  if (manifest) writeFileSync(join(root, 'build', 'electron-native', 'manifest.json'), JSON.stringify(manifest));
  return root;
}

describe('resolveNativeBinding', () => {
  it('is undefined under plain Node (better-sqlite3 uses its own build)', () => {
    expect(resolveNativeBinding({ versions: { node: '20.20.0' } })).toBeUndefined();
    expect(resolveNativeBinding()).toBeUndefined();
  });

  it('points to the Electron-ABI copy under Electron', () => {
    const root = fakeRoot('ok', { electronVersion: '39.5.0' });
    expect(resolveNativeBinding({ versions: { electron: '39.5.0' }, root })).toBe(join(root, 'build', 'electron-native', 'better_sqlite3.node'));
  });

  it('says which script to run when the copy is missing', () => {
    const root = fakeRoot('missing', undefined, false);
    expect(() => resolveNativeBinding({ versions: { electron: '39.5.0' }, root })).toThrow(/no Electron build .*run `node scripts\/rebuild-electron\.mjs`/);
  });

  it('refuses a copy built for another Electron version', () => {
    const root = fakeRoot('stale', { electronVersion: '38.0.0' });
    expect(() => resolveNativeBinding({ versions: { electron: '39.5.0' }, root })).toThrow(/made for Electron 38\.0\.0 but this is Electron 39\.5\.0/);
  });

  it('loads from app.asar.unpacked when packaged', () => {
    expect(unpackedPath(`${sep}opt${sep}HST${sep}resources${sep}app.asar${sep}build${sep}x.node`)).toBe(`${sep}opt${sep}HST${sep}resources${sep}app.asar.unpacked${sep}build${sep}x.node`);
    expect(unpackedPath(`${sep}a${sep}b.node`)).toBe(`${sep}a${sep}b.node`);
  });

  it('findPackageRoot walks up to hst-studio’s package.json', () => {
    const root = fakeRoot('walk');
    mkdirSync(join(root, 'dist', 'main', 'chunks'), { recursive: true });
    writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ name: 'something-else' }));
    expect(findPackageRoot(join(root, 'dist', 'main', 'chunks'))).toBe(root);
    expect(findPackageRoot()).toBe(process.cwd());
  });
});
