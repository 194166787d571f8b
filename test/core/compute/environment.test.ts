import { describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { dataDir, electronInfo, probeNvidiaGpu } from '../../../src-main/core/compute/environment';
import { importOptional } from '../../../src-main/core/compute/optional-import';

describe('dataDir', () => {
  it('honours HST_DATA_DIR, made absolute', () => {
    expect(dataDir({ HST_DATA_DIR: 'rel/dir' }, 'linux')).toBe(path.resolve('rel/dir'));
  });
  it('follows each OS convention', () => {
    const home = os.homedir();
    expect(dataDir({}, 'linux')).toBe(path.join(home, '.local', 'share', 'hst-studio'));
    expect(dataDir({ XDG_DATA_HOME: '/x/data' }, 'linux')).toBe(path.join('/x/data', 'hst-studio'));
    expect(dataDir({}, 'darwin')).toBe(path.join(home, 'Library', 'Application Support', 'hst-studio'));
    expect(dataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32')).toBe(path.join('C:\\Users\\u\\AppData\\Roaming', 'hst-studio'));
  });
});

describe('optional packages', () => {
  it('reports a missing package as missing, without throwing', async () => {
    const r = await importOptional('@hst-studio-test', 'surely-absent-package');
    expect(r).toEqual({ ok: false, missing: true, reason: '@hst-studio-test/surely-absent-package is not installed' });
  });
  it('loads a present one', async () => {
    const r = await importOptional<{ join: unknown }>('node:path');
    expect(r.ok && typeof r.module.join).toBe('function');
  });
  it('describes Electron consistently', () => {
    const e = electronInfo();
    if (!e.installed) expect(e).toEqual({ installed: false, binary: false, version: null });
    else expect(e.version).toMatch(/^\d+\./);
  });
  it('probes for an NVIDIA GPU without failing', async () => {
    const g = await probeNvidiaGpu();
    expect(typeof g.detected).toBe('boolean');
    expect(g.detail.length).toBeGreaterThan(0);
  });
});
