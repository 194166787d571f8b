// Sandboxed preload (bundled to CJS with zod and the contract inlined; only `electron` stays external).
// The sandbox's require() knows `electron` and nothing else, which is why this file has no other imports
// at run time. `require` is typed through our own slice of Electron's API (see electron-types.ts).
import type { ElectronPreload } from './electron-types';
import { buildBridge } from './preload-api';

const { contextBridge, ipcRenderer, webUtils } = require('electron') as ElectronPreload;

contextBridge.exposeInMainWorld('hst', buildBridge({ ipcRenderer, webUtils }));
