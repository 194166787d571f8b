// The slice of Electron's API this shell uses, declared here because the `electron` package is an optional
// dependency that is absent on build/CI machines. Why our own interfaces rather than `declare module 'electron'`:
// a module shim would collide with Electron's real typings wherever it IS installed, whereas these interfaces
// are structurally compatible subsets, so main.ts obtains the real module with a runtime `import()` and views it
// through `ElectronMain`. Only what the code calls is declared; add members as the shell needs them.

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WebPreferences {
  preload?: string;
  contextIsolation?: boolean;
  sandbox?: boolean;
  nodeIntegration?: boolean;
  nodeIntegrationInWorker?: boolean;
  nodeIntegrationInSubFrames?: boolean;
  webSecurity?: boolean;
  allowRunningInsecureContent?: boolean;
  experimentalFeatures?: boolean;
  enableBlinkFeatures?: string;
  disableBlinkFeatures?: string;
  webviewTag?: boolean;
  navigateOnDragDrop?: boolean;
  safeDialogs?: boolean;
  spellcheck?: boolean;
  devTools?: boolean;
  enableWebSQL?: boolean;
}

export interface BrowserWindowConstructorOptions {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  minWidth?: number;
  minHeight?: number;
  show?: boolean;
  title?: string;
  icon?: string;
  backgroundColor?: string;
  autoHideMenuBar?: boolean;
  webPreferences?: WebPreferences;
}

export interface WebFrameMain {
  readonly url: string;
  readonly parent: WebFrameMain | null;
  readonly routingId: number;
  readonly processId: number;
}

export interface HandlerDetails {
  url: string;
  frameName?: string;
  disposition?: string;
}

export type WindowOpenHandlerResponse = { action: 'deny' } | { action: 'allow' };

export interface ElectronEvent {
  preventDefault(): void;
}

export interface WebContents {
  readonly id: number;
  readonly mainFrame: WebFrameMain;
  getURL(): string;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void;
  on(event: 'will-navigate' | 'will-redirect', listener: (event: ElectronEvent, url: string) => void): this;
  on(event: 'will-attach-webview', listener: (event: ElectronEvent, webPreferences: WebPreferences, params: Record<string, string>) => void): this;
  on(event: string, listener: (...args: any[]) => void): this;
}

export interface BrowserWindow {
  readonly webContents: WebContents;
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isMaximized(): boolean;
  isFullScreen(): boolean;
  maximize(): void;
  getNormalBounds(): Rectangle;
  isDestroyed(): boolean;
  isVisible(): boolean;
  on(event: string, listener: (...args: any[]) => void): this;
  once(event: string, listener: (...args: any[]) => void): this;
}

export interface BrowserWindowConstructor {
  new (options?: BrowserWindowConstructorOptions): BrowserWindow;
  getAllWindows(): BrowserWindow[];
}

export interface IpcMainInvokeEvent {
  readonly sender: WebContents;
  readonly senderFrame: WebFrameMain | null;
}

export interface IpcMain {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface CustomScheme {
  scheme: string;
  privileges?: {
    standard?: boolean;
    secure?: boolean;
    bypassCSP?: boolean;
    allowServiceWorkers?: boolean;
    supportFetchAPI?: boolean;
    corsEnabled?: boolean;
    stream?: boolean;
    codeCache?: boolean;
  };
}

/** The `Request` protocol.handle passes: a WHATWG Request; we only read these fields. */
export interface ProtocolRequest {
  readonly url: string;
  readonly method: string;
}

export interface Protocol {
  registerSchemesAsPrivileged(schemes: CustomScheme[]): void;
  handle(scheme: string, handler: (request: ProtocolRequest) => Response | Promise<Response>): void;
}

export type PermissionRequestHandler = (webContents: WebContents, permission: string, callback: (granted: boolean) => void, details: unknown) => void;
export type PermissionCheckHandler = (webContents: WebContents | null, permission: string, requestingOrigin: string, details: unknown) => boolean;

export interface OnBeforeRequestDetails {
  url: string;
  resourceType?: string;
}

export interface OnHeadersReceivedDetails {
  url: string;
  responseHeaders?: Record<string, string[]>;
}

export interface Session {
  readonly protocol: Protocol;
  readonly webRequest: {
    onBeforeRequest(listener: (details: OnBeforeRequestDetails, callback: (response: { cancel?: boolean }) => void) => void): void;
    onHeadersReceived(listener: (details: OnHeadersReceivedDetails, callback: (response: { responseHeaders?: Record<string, string[]> }) => void) => void): void;
  };
  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void;
  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void;
  setDevicePermissionHandler?(handler: ((details: unknown) => boolean) | null): void;
}

export interface MenuItemConstructorOptions {
  label?: string;
  role?: string;
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox' | 'radio';
  accelerator?: string;
  /** false: show the shortcut in the menu but let the renderer's (remappable) keymap handle the key. */
  registerAccelerator?: boolean;
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemConstructorOptions[];
}

export interface MenuStatic {
  buildFromTemplate(template: MenuItemConstructorOptions[]): unknown;
  setApplicationMenu(menu: unknown): void;
}

export interface App {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(): boolean;
  quit(): void;
  exit(code?: number): void;
  whenReady(): Promise<void>;
  enableSandbox(): void;
  getPath(name: 'userData' | 'appData' | 'temp'): string;
  setPath(name: 'userData', path: string): void;
  setName(name: string): void;
  getVersion(): string;
  on(event: 'second-instance' | 'window-all-closed' | 'activate' | 'before-quit', listener: (...args: any[]) => void): this;
  on(event: 'web-contents-created', listener: (event: ElectronEvent, contents: WebContents) => void): this;
}

export interface Display {
  workArea: Rectangle;
}

export interface ElectronMain {
  app: App;
  BrowserWindow: BrowserWindowConstructor;
  ipcMain: IpcMain;
  protocol: Protocol;
  session: { defaultSession: Session };
  Menu: MenuStatic;
  shell: { openExternal(url: string): Promise<void> };
  dialog: { showOpenDialog(win: BrowserWindow, options: { properties: string[]; title?: string }): Promise<{ canceled: boolean; filePaths: string[] }> };
  screen: { getAllDisplays(): Display[] };
}

// ---- preload side ----

export interface IpcRendererEvent {
  readonly sender: unknown;
}

export interface IpcRenderer {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): this;
  removeListener(channel: string, listener: (...args: any[]) => void): this;
}

export interface ElectronPreload {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: IpcRenderer;
  webUtils: { getPathForFile(file: unknown): string };
}
