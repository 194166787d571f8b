// Electron: the preload exposes `window.hst` ({ api, on }) built from the same contract; media is served by
// the app:// protocol at the same relative paths as in server mode.
import type { StudioBridge } from '@contract/api';
import { imageMediaUrl, thumbMediaUrl } from '@contract/media-url';
import type { Transport } from './types';

export function electronBridge(): StudioBridge | null {
  const hst = (globalThis as { hst?: StudioBridge }).hst;
  return hst && typeof hst === 'object' && hst.api && typeof hst.on === 'function' ? hst : null;
}

export function createElectronTransport(bridge: StudioBridge): Transport {
  const getPath = (bridge as { getPathForFile?: (f: unknown) => string }).getPathForFile;
  return {
    pathForFile: getPath ? (f) => getPath(f) || null : undefined,
    kind: 'electron',
    api: bridge.api,
    on: (event, cb) => bridge.on(event, cb),
    imageUrl: (img, max) => imageMediaUrl(img, max),
    thumbUrl: (img, size = 256) => thumbMediaUrl(img, size),
  };
}
