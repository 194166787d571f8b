// Window position/size remembered across runs in userData/window-state.json. The saved bounds are only
// trusted if they still overlap a connected display (a laptop undocked from its monitor must not open
// the window off-screen); anything unreadable falls back to the defaults rather than failing the start.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Rectangle } from './electron-types';

export const WindowState = z.object({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(400).max(16384),
  height: z.number().int().min(300).max(16384),
  maximized: z.boolean().default(false),
  fullScreen: z.boolean().default(false),
});
export type WindowState = z.infer<typeof WindowState>;

export const DEFAULT_WINDOW_STATE: WindowState = Object.freeze({ width: 1400, height: 900, maximized: false, fullScreen: false });

/** How many pixels of the title bar must be on some display for saved coordinates to be used. */
const MIN_VISIBLE = 48;

function overlaps(a: Rectangle, b: Rectangle): boolean {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w >= MIN_VISIBLE && h >= MIN_VISIBLE;
}

/** Parses saved JSON into a usable state for the current displays; never throws. */
export function parseWindowState(json: string | null, workAreas: Rectangle[]): WindowState {
  if (!json) return { ...DEFAULT_WINDOW_STATE };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ...DEFAULT_WINDOW_STATE };
  }
  const parsed = WindowState.safeParse(raw);
  if (!parsed.success) return { ...DEFAULT_WINDOW_STATE };
  const s = parsed.data;
  if (s.x === undefined || s.y === undefined) return { width: s.width, height: s.height, maximized: s.maximized, fullScreen: s.fullScreen };
  const rect = { x: s.x, y: s.y, width: s.width, height: s.height };
  if (!workAreas.some((wa) => overlaps(rect, wa))) {
    // Off every display: keep the size (clamped to the primary display) and let the OS place it.
    const primary = workAreas[0];
    return {
      width: primary ? Math.min(s.width, primary.width) : s.width,
      height: primary ? Math.min(s.height, primary.height) : s.height,
      maximized: s.maximized,
      fullScreen: s.fullScreen,
    };
  }
  return s;
}

export function loadWindowState(file: string, workAreas: Rectangle[]): WindowState {
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = null;
  }
  return parseWindowState(text, workAreas);
}

/** Atomic write (temp + rename) so a crash mid-save cannot leave half a JSON file behind. */
export function saveWindowState(file: string, state: WindowState): void {
  const data = WindowState.parse(state);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2));
  renameSync(tmp, file);
}

/** The state to save from a window: normal (un-maximized) bounds plus the maximized/fullscreen flags. */
export function captureWindowState(win: { getNormalBounds(): Rectangle; isMaximized(): boolean; isFullScreen(): boolean }): WindowState {
  const b = win.getNormalBounds();
  return {
    x: Math.round(b.x),
    y: Math.round(b.y),
    width: Math.max(400, Math.round(b.width)),
    height: Math.max(300, Math.round(b.height)),
    maximized: win.isMaximized(),
    fullScreen: win.isFullScreen(),
  };
}
