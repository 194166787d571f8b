import { describe, expect, it } from 'vitest';
import { secureWebPreferences, windowFrameOptions } from '../../src-main/electron/web-preferences';
import { DEFAULT_WINDOW_STATE } from '../../src-main/electron/window-state';

describe('secureWebPreferences', () => {
  const prefs = secureWebPreferences('/app/preload.cjs', { devTools: false });

  it('pins every security-relevant value', () => {
    expect(prefs).toEqual({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      disableBlinkFeatures: 'Auxclick',
      safeDialogs: true,
      spellcheck: false,
      enableWebSQL: false,
      devTools: false,
    });
  });

  it('leaves webSecurity at its default and never sets blink/experimental features', () => {
    expect('webSecurity' in prefs).toBe(false);
    expect('enableBlinkFeatures' in prefs).toBe(false);
    expect('experimentalFeatures' in prefs).toBe(false);
  });

  it('is frozen so no caller can loosen it', () => {
    expect(Object.isFrozen(prefs)).toBe(true);
    expect(() => {
      (prefs as { sandbox: boolean }).sandbox = false;
    }).toThrow();
  });

  it('devTools follows the flag', () => {
    expect(secureWebPreferences('/p', { devTools: true }).devTools).toBe(true);
  });
});

describe('windowFrameOptions', () => {
  it('starts hidden, uses the saved bounds and carries no webPreferences (main.ts writes them at the call)', () => {
    const o = windowFrameOptions({ x: 10, y: 20, width: 1000, height: 700, maximized: false, fullScreen: false });
    expect(o).toMatchObject({ x: 10, y: 20, width: 1000, height: 700, show: false });
    expect('webPreferences' in o).toBe(false);
  });

  it('omits x/y when the state has no position', () => {
    const o = windowFrameOptions(DEFAULT_WINDOW_STATE);
    expect('x' in o || 'y' in o).toBe(false);
    expect(o.width).toBe(DEFAULT_WINDOW_STATE.width);
  });
});
