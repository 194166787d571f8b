import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureWindowState, DEFAULT_WINDOW_STATE, loadWindowState, parseWindowState, saveWindowState } from '../../src-main/electron/window-state';

const screens = [{ x: 0, y: 0, width: 1920, height: 1080 }];
const tmp = mkdtempSync(join(tmpdir(), 'hst-winstate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('window state', () => {
  it('round-trips through the file', () => {
    const file = join(tmp, 'sub', 'window-state.json');
    const s = { x: 100, y: 50, width: 1200, height: 800, maximized: true, fullScreen: false };
    saveWindowState(file, s);
    expect(loadWindowState(file, screens)).toEqual(s);
    expect(readdirSync(join(tmp, 'sub'))).toEqual(['window-state.json']);
  });

  it('falls back to defaults for a missing, corrupt or invalid file', () => {
    expect(loadWindowState(join(tmp, 'none.json'), screens)).toEqual(DEFAULT_WINDOW_STATE);
    expect(parseWindowState('{not json', screens)).toEqual(DEFAULT_WINDOW_STATE);
    expect(parseWindowState(JSON.stringify({ width: 'wide', height: 10 }), screens)).toEqual(DEFAULT_WINDOW_STATE);
    expect(parseWindowState(JSON.stringify({ width: 50, height: 50 }), screens)).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('drops a position that is on no connected display but keeps a size that fits', () => {
    const off = JSON.stringify({ x: 5000, y: 3000, width: 2500, height: 900, maximized: false, fullScreen: false });
    expect(parseWindowState(off, screens)).toEqual({ width: 1920, height: 900, maximized: false, fullScreen: false });
  });

  it('keeps a position on a second display', () => {
    const two = [...screens, { x: 1920, y: 0, width: 2560, height: 1440 }];
    const s = { x: 2000, y: 100, width: 1000, height: 700, maximized: false, fullScreen: false };
    expect(parseWindowState(JSON.stringify(s), two)).toEqual(s);
  });

  it('a window barely touching the screen edge counts as off-screen', () => {
    const s = { x: 1900, y: 0, width: 800, height: 600, maximized: false, fullScreen: false };
    expect(parseWindowState(JSON.stringify(s), screens).x).toBeUndefined();
  });

  it('captures normal bounds and flags from a window', () => {
    const win = { getNormalBounds: () => ({ x: 10.4, y: 20.6, width: 1000, height: 700 }), isMaximized: () => true, isFullScreen: () => false };
    expect(captureWindowState(win)).toEqual({ x: 10, y: 21, width: 1000, height: 700, maximized: true, fullScreen: false });
  });

  it('refuses to save an invalid state', () => {
    expect(() => saveWindowState(join(tmp, 'bad.json'), { width: 1, height: 1, maximized: false, fullScreen: false })).toThrow();
    expect(() => readFileSync(join(tmp, 'bad.json'))).toThrow();
  });
});
