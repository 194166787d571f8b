// The application menu: the studio's commands with their default shortcuts. Shortcuts the labeling canvas
// owns (tools, classes, undo, next/previous image) are shown but NOT registered as accelerators
// (`registerAccelerator: false`): the renderer's keymap handles those keys, stays remappable, and knows
// whether a text field has focus (where Ctrl+Z must undo typing, not a polygon). Commands reach the renderer
// as the contract's `app.command` event; the few that need the main process (open folder, quit, devtools,
// zoom, full screen) are handled here.

export const RENDERER_COMMANDS = [
  'project.new',
  'project.open',
  'images.import',
  'dataset.export',
  'edit.undo',
  'edit.redo',
  'edit.delete',
  'edit.duplicate',
  'view.zoomIn',
  'view.zoomOut',
  'view.fit',
  'view.toggleShapes',
  'image.next',
  'image.previous',
  'tool.select',
  'tool.box',
  'tool.polygon',
  'tool.brush',
  'tool.eraser',
  'model.train',
  'model.predict',
  'help.shortcuts',
] as const;
export type RendererCommand = (typeof RENDERER_COMMANDS)[number];

export interface MenuItem {
  label?: string;
  role?: string;
  type?: 'separator' | 'submenu';
  accelerator?: string;
  registerAccelerator?: boolean;
  click?: () => void;
  submenu?: MenuItem[];
}

export interface MenuActions {
  /** Forward a studio command to the renderer. */
  command(cmd: RendererCommand, arg?: string): void;
  /** Native folder picker, then the renderer opens it (`project.open` with the path). */
  openProjectFolder(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  devTools: boolean;
  appName?: string;
}

const sep: MenuItem = { type: 'separator' };

export function buildMenuTemplate(actions: MenuActions, opts: MenuOptions): MenuItem[] {
  const isMac = opts.platform === 'darwin';
  /** A command whose key is handled by the renderer's keymap: shown in the menu, not grabbed globally. */
  const canvas = (label: string, cmd: RendererCommand, accelerator?: string): MenuItem => ({
    label,
    ...(accelerator ? { accelerator, registerAccelerator: false } : {}),
    click: () => actions.command(cmd),
  });
  /** A command with a real (global within the window) accelerator. */
  const global = (label: string, cmd: RendererCommand, accelerator: string): MenuItem => ({ label, accelerator, click: () => actions.command(cmd) });

  const template: MenuItem[] = [];
  if (isMac) {
    template.push({
      label: opts.appName ?? 'HST Studio',
      submenu: [{ role: 'about' }, sep, { role: 'services' }, sep, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, sep, { role: 'quit' }],
    });
  }
  template.push({
    label: '&File',
    submenu: [
      global('New Project…', 'project.new', 'CmdOrCtrl+Shift+N'),
      { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: () => actions.openProjectFolder() },
      sep,
      global('Import Images…', 'images.import', 'CmdOrCtrl+I'),
      global('Export Dataset…', 'dataset.export', 'CmdOrCtrl+E'),
      sep,
      isMac ? { role: 'close' } : { role: 'quit', accelerator: 'CmdOrCtrl+Q' },
    ],
  });
  template.push({
    label: '&Edit',
    submenu: [
      canvas('Undo', 'edit.undo', 'CmdOrCtrl+Z'),
      canvas('Redo', 'edit.redo', 'CmdOrCtrl+Shift+Z'),
      sep,
      // Native roles: cut/copy/paste/select-all act on text fields (and macOS needs them for the shortcuts).
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
      sep,
      canvas('Duplicate Shape', 'edit.duplicate', 'CmdOrCtrl+D'),
      canvas('Delete Shape', 'edit.delete', 'Delete'),
    ],
  });
  template.push({
    label: '&View',
    submenu: [
      canvas('Zoom In', 'view.zoomIn', 'CmdOrCtrl+='),
      canvas('Zoom Out', 'view.zoomOut', 'CmdOrCtrl+-'),
      canvas('Fit Image', 'view.fit', 'CmdOrCtrl+F'),
      canvas('Show/Hide Shapes', 'view.toggleShapes', 'H'),
      sep,
      canvas('Next Image', 'image.next', 'D'),
      canvas('Previous Image', 'image.previous', 'A'),
      sep,
      { role: 'togglefullscreen' },
      ...(opts.devTools ? [sep, { role: 'reload' }, { role: 'toggleDevTools' }] : []),
    ],
  });
  template.push({
    label: '&Tools',
    submenu: [
      canvas('Select', 'tool.select', 'V'),
      canvas('Box', 'tool.box', 'R'),
      canvas('Polygon', 'tool.polygon', 'P'),
      canvas('Brush', 'tool.brush', 'B'),
      canvas('Eraser', 'tool.eraser', 'E'),
    ],
  });
  template.push({
    label: '&Model',
    submenu: [global('Train', 'model.train', 'CmdOrCtrl+T'), global('Predict Current Image', 'model.predict', 'CmdOrCtrl+Shift+P')],
  });
  template.push({
    label: '&Help',
    ...(isMac ? { role: 'help' } : {}),
    submenu: [
      canvas('Keyboard Shortcuts', 'help.shortcuts', 'F1'),
    ],
  });
  return template;
}
