// What the sandboxed preload hands to the page as `window.hst`. Built by iterating the contract's method
// and event names, so a new contract method needs no change here — yet the page only ever gets named
// functions bound to fixed channels: no generic invoke(channel), no ipcRenderer, no IpcRendererEvent
// (whose `sender` would leak ipcRenderer back into the page).
import { events, methods, type EventName, type EventPayload, type StudioApi, type StudioBridge } from '../contract/api';
import type { IpcRenderer } from './electron-types';
import type { IpcResult } from './ipc';

/** `window.hst` in Electron: the transport-neutral bridge plus the path of a dropped File. */
export interface ElectronBridge extends StudioBridge {
  readonly platform: 'electron';
  /** Absolute path of a File from a drop or <input type=file> (Electron removed File.path). */
  getPathForFile(file: unknown): string;
}

export interface PreloadDeps {
  ipcRenderer: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
  webUtils: { getPathForFile(file: unknown): string };
}

/**
 * The renderer sees the core's message (which names the offending field). `status`/`field` are attached too,
 * but contextBridge copies only an Error's message and stack into the page, so the page must not rely on them.
 */
function unwrap(channel: string, r: unknown): unknown {
  const res = r as IpcResult | undefined;
  if (res && res.ok === true) return res.value;
  if (res && res.ok === false) {
    const err = new Error(res.error.message) as Error & { status?: number; field?: string };
    err.status = res.error.status;
    if (res.error.field) err.field = res.error.field;
    throw err;
  }
  throw new Error(`${channel}: malformed reply from the main process`);
}

export function buildBridge(deps: PreloadDeps): ElectronBridge {
  const { ipcRenderer, webUtils } = deps;
  const api: Record<string, (input?: unknown) => Promise<unknown>> = {};
  for (const channel of Object.keys(methods)) {
    // One closure per method, the channel fixed at build time.
    api[channel] = async (input?: unknown) => unwrap(channel, await ipcRenderer.invoke(channel, input ?? {}));
  }
  const eventNames = new Set(Object.keys(events));
  const on = <K extends EventName>(event: K, cb: (payload: EventPayload<K>) => void): (() => void) => {
    if (typeof event !== 'string' || !eventNames.has(event)) throw new Error(`unknown event '${String(event)}': expected one of ${[...eventNames].join(', ')}`);
    if (typeof cb !== 'function') throw new Error(`on('${event}') needs a callback function`);
    const listener = (_e: unknown, payload: unknown) => cb(payload as EventPayload<K>);
    ipcRenderer.on(event, listener);
    return () => {
      ipcRenderer.removeListener(event, listener);
    };
  };
  return Object.freeze({
    platform: 'electron' as const,
    api: Object.freeze(api) as unknown as StudioApi,
    on,
    getPathForFile: (file: unknown) => webUtils.getPathForFile(file),
  });
}
