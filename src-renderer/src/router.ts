// Addressable views (issue 18): the hash names the view — `#/gallery?p=<project dir>`, `#/editor/12?p=…`,
// `#/classes?p=…` — so a reload lands on the same view and Back/Forward move between views inside the app.
// The hash works unchanged in server mode (the server only serves /) and on Electron's app:// origin.
import type { Screen } from './stores/ui';

export interface Route {
  screen: Screen;
  /** the editor's open image */
  imageId?: number;
  /** the project folder the view belongs to */
  project?: string;
}

const SCREENS: readonly Screen[] = ['projects', 'gallery', 'editor', 'classes', 'train', 'models'];

/** `#/editor/12?p=%2Fdata%2Fproj` → route; anything unrecognised is null (the app then picks its default). */
export function parseRoute(hash: string): Route | null {
  const h = hash.replace(/^#/, '');
  if (!h.startsWith('/')) return null;
  const [path, query = ''] = h.slice(1).split('?', 2);
  const [screen, id, ...rest] = path.split('/');
  if (!SCREENS.includes(screen as Screen) || rest.length) return null;
  const out: Route = { screen: screen as Screen };
  if (id !== undefined && id !== '') {
    if (screen !== 'editor' || !/^[1-9][0-9]{0,15}$/.test(id)) return null;
    out.imageId = Number(id);
  }
  const p = new URLSearchParams(query).get('p');
  if (p) out.project = p;
  return out;
}

export function formatRoute(r: Route): string {
  let s = `#/${r.screen}`;
  if (r.screen === 'editor' && r.imageId) s += `/${r.imageId}`;
  if (r.project && r.screen !== 'projects') s += `?p=${encodeURIComponent(r.project)}`;
  return s;
}

/**
 * Whether going from `a` to `b` is a new step in the history (Back returns to `a`) or only refines the same
 * view (the editor's next/previous image, the image arriving after the editor opened): then it replaces.
 */
export function isNewStep(a: Route | null, b: Route): boolean {
  if (!a) return false;
  if (a.screen !== b.screen || a.project !== b.project) return true;
  return false;
}
