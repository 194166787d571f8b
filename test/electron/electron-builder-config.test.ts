// The packaging config is validated offline with electron-builder's own loader and JSON-schema validator
// (what `npx electron-builder --dir` runs before it downloads Electron).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: unknown): Promise<Record<string, any>>;
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
const fuses = require('../../scripts/electron-fuses.cjs') as {
  fuseSettings(platform: string, builderVersion: string): Record<string, boolean>;
  executablePath(ctx: unknown): string;
};

const root = process.cwd();
const tmp = mkdtempSync(join(tmpdir(), 'hst-eb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function load(file: string, dir = root) {
  const cfg = await getConfig(dir, file, null);
  await validateConfiguration(cfg, new DebugLogger(false));
  return cfg;
}

describe('electron-builder.yml (release)', () => {
  it('validates against electron-builder’s schema', async () => {
    await expect(load('electron-builder.yml')).resolves.toBeTruthy();
  });

  it('the validator does reject a bad config (so the check above can fail)', async () => {
    writeFileSync(join(tmp, 'bad.yml'), 'appId: x\nelectronFuses:\n  runAsNode: false\n');
    await expect(load('bad.yml', tmp)).rejects.toThrow(/electronFuses/);
  });

  it('names the app, targets every platform and uses the icons in resources/', async () => {
    const cfg = await load('electron-builder.yml');
    expect(cfg.appId).toBe('org.hststudio.desktop');
    expect(cfg.productName).toBe('HST Studio');
    expect(cfg.linux.target).toEqual(['AppImage', 'deb']);
    expect(cfg.win.target).toEqual(['nsis']);
    expect(cfg.mac.target).toEqual(['dmg']);
    expect([cfg.linux.icon, cfg.win.icon, cfg.mac.icon]).toEqual(['resources/icon.png', 'resources/icon.ico', 'resources/icon.icns']);
  });

  it('starts the ESM main bundle and pins the same Electron as package.json', async () => {
    const cfg = await load('electron-builder.yml');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(cfg.extraMetadata.main).toBe('dist/main/electron/main.js');
    expect(pkg.main).toBe(cfg.extraMetadata.main);
    expect(cfg.electronVersion).toBe(pkg.optionalDependencies.electron);
  });

  it('unpacks every native module from the asar', async () => {
    const cfg = await load('electron-builder.yml');
    for (const p of ['build/electron-native/**', 'node_modules/better-sqlite3/**', 'node_modules/@tensorflow/tfjs-node/**', 'node_modules/sharp/**', 'node_modules/@img/**']) {
      expect(cfg.asarUnpack).toContain(p);
    }
    expect(cfg.npmRebuild).toBe(false);
  });

  it('keeps dawn.node (WebGPU) and onnxruntime-node outside the asar, with the files that sit beside them', async () => {
    const cfg = await load('electron-builder.yml');
    expect(cfg.asarUnpack).toContain('node_modules/webgpu/dist/**');
    expect(cfg.asarUnpack).toContain('node_modules/onnxruntime-node/bin/**');
    // the globs must cover the binaries the installed packages really ship (dawn.node per platform; win32's DLLs)
    const { minimatch } = require('minimatch') as { minimatch(p: string, g: string): boolean };
    const covered = (p: string) => (cfg.asarUnpack as string[]).some((g) => minimatch(p, g));
    for (const p of ['node_modules/webgpu/dist/linux-x64/dawn.node', 'node_modules/webgpu/dist/win32-x64/dawn.node', 'node_modules/webgpu/dist/win32-x64/dxcompiler.dll', 'node_modules/webgpu/dist/darwin-universal/dawn.node'])
      expect(covered(p), p).toBe(true);
    expect(covered('node_modules/webgpu/index.js')).toBe(false);
  });

  it('release builds flip the fuses in an afterPack hook', async () => {
    expect((await load('electron-builder.yml')).afterPack).toBe('scripts/electron-fuses.cjs');
  });
});

describe('electron-builder.test.yml (test builds)', () => {
  it('extends the release config but runs no fuse hook', async () => {
    const cfg = await load('electron-builder.test.yml');
    expect(cfg.afterPack).toBeNull();
    expect(cfg.appId).toBe('org.hststudio.desktop');
    expect(cfg.directories.output).toBe('release-test');
  });
});

describe('fuses (release)', () => {
  it('turns off run-as-node, NODE_OPTIONS, inspect flags and file:// privileges; asar only', () => {
    expect(fuses.fuseSettings('linux', '25.1.8')).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: false,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('asar integrity validation is on where electron-builder writes the integrity record', () => {
    expect(fuses.fuseSettings('darwin', '25.1.8').enableEmbeddedAsarIntegrityValidation).toBe(true);
    expect(fuses.fuseSettings('win32', '25.1.8').enableEmbeddedAsarIntegrityValidation).toBe(false);
    expect(fuses.fuseSettings('win32', '26.0.12').enableEmbeddedAsarIntegrityValidation).toBe(true);
  });

  it('finds the packaged executable per platform', () => {
    const ctx = (p: string) => ({ appOutDir: '/out', electronPlatformName: p, packager: { appInfo: { productFilename: 'HST Studio' }, executableName: 'hst-studio' } });
    expect(fuses.executablePath(ctx('darwin'))).toBe(join('/out', 'HST Studio.app'));
    expect(fuses.executablePath(ctx('win32'))).toBe(join('/out', 'HST Studio.exe'));
    expect(fuses.executablePath(ctx('linux'))).toBe(join('/out', 'hst-studio'));
  });
});

describe('icons', () => {
  it('icon.png is 512×512', async () => {
    const m = await sharp('resources/icon.png').metadata();
    expect([m.width, m.height, m.format]).toEqual([512, 512, 'png']);
  });

  it('icon.ico holds PNG entries up to 256 px', () => {
    const b = readFileSync('resources/icon.ico');
    expect([b.readUInt16LE(0), b.readUInt16LE(2)]).toEqual([0, 1]);
    const n = b.readUInt16LE(4);
    const sizes = Array.from({ length: n }, (_, i) => b.readUInt8(6 + 16 * i) || 256);
    expect(sizes).toContain(256);
    const first = b.readUInt32LE(6 + 12);
    expect(b.subarray(first, first + 8).toString('latin1')).toBe('\x89PNG\r\n\x1a\n');
  });

  it('icon.icns is a well-formed container with a 1024 px entry', () => {
    const b = readFileSync('resources/icon.icns');
    expect(b.subarray(0, 4).toString('latin1')).toBe('icns');
    expect(b.readUInt32BE(4)).toBe(b.length);
    const types: string[] = [];
    for (let off = 8; off < b.length; off += b.readUInt32BE(off + 4)) types.push(b.subarray(off, off + 4).toString('latin1'));
    expect(types).toContain('ic10');
    expect(types).toContain('ic09');
  });
});
