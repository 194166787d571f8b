import { describe, expect, it, vi } from 'vitest';
import { buildMenuTemplate, RENDERER_COMMANDS, type MenuItem } from '../../src-main/electron/menu';

function flatten(items: MenuItem[]): MenuItem[] {
  return items.flatMap((i) => [i, ...(i.submenu ? flatten(i.submenu) : [])]);
}

function build(platform: NodeJS.Platform, devTools = false) {
  const actions = { command: vi.fn(), openProjectFolder: vi.fn() };
  return { actions, items: flatten(buildMenuTemplate(actions, { platform, devTools })) };
}

const byLabel = (items: MenuItem[], label: string) => {
  const found = items.find((i) => i.label === label);
  if (!found) throw new Error(`no menu item ${label}`);
  return found;
};

describe('application menu', () => {
  it('every renderer command is reachable from the menu', () => {
    const { actions, items } = build('linux');
    for (const i of items) if (i.click && !i.submenu) i.click();
    const sent = new Set(actions.command.mock.calls.map((c) => c[0]));
    for (const cmd of RENDERER_COMMANDS.filter((c) => c !== 'project.open')) expect(sent.has(cmd), cmd).toBe(true);
    expect(actions.openProjectFolder).toHaveBeenCalledTimes(1);
  });

  it('shows the studio shortcuts', () => {
    const { items } = build('linux');
    expect(byLabel(items, 'Undo').accelerator).toBe('CmdOrCtrl+Z');
    expect(byLabel(items, 'Redo').accelerator).toBe('CmdOrCtrl+Shift+Z');
    expect(byLabel(items, 'Box').accelerator).toBe('R');
    expect(byLabel(items, 'Polygon').accelerator).toBe('P');
    expect(byLabel(items, 'Next Image').accelerator).toBe('D');
    expect(byLabel(items, 'Open Project…').accelerator).toBe('CmdOrCtrl+O');
  });

  it('canvas keys are shown but left to the renderer keymap; app-level ones are registered', () => {
    const { items } = build('linux');
    for (const label of ['Undo', 'Redo', 'Box', 'Polygon', 'Next Image', 'Delete Shape', 'Keyboard Shortcuts']) expect(byLabel(items, label).registerAccelerator).toBe(false);
    for (const label of ['Open Project…', 'Import Images…', 'Train']) expect(byLabel(items, label).registerAccelerator).toBeUndefined();
  });

  it('no two registered accelerators collide', () => {
    const { items } = build('linux');
    const registered = items.filter((i) => i.accelerator && i.registerAccelerator !== false).map((i) => i.accelerator);
    expect(new Set(registered).size).toBe(registered.length);
  });

  it('devtools and reload only in development', () => {
    expect(build('linux', false).items.some((i) => i.role === 'toggleDevTools' || i.role === 'reload')).toBe(false);
    expect(build('linux', true).items.some((i) => i.role === 'toggleDevTools')).toBe(true);
  });

  it('macOS gets the app menu; others quit from File', () => {
    expect(build('darwin').items.some((i) => i.role === 'about')).toBe(true);
    expect(build('linux').items.some((i) => i.role === 'about')).toBe(false);
    expect(build('win32').items.some((i) => i.role === 'quit')).toBe(true);
  });
});
