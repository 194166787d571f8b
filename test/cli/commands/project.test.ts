import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { project } from '../../../src-main/cli/commands/project';
import { openProject } from '../../../src-main/core/store/project';
import { SCHEMA_VERSION } from '../../../src-main/core/store/migrations/index';
import { tempDir } from '../../core/store/helpers';

let t: ReturnType<typeof tempDir>;
let log: string[];
beforeEach(() => {
  t = tempDir('hst-cli-project-');
  log = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.join(' ')));
});
afterEach(() => {
  vi.restoreAllMocks();
  t.cleanup();
});

describe('hst-studio project', () => {
  it('creates a project and reports on it', async () => {
    const dir = join(t.dir, 'my birds');
    expect(await project.run(['create', dir, '--name', 'Birds'])).toBe(0);
    expect(log.join('\n')).toContain(`created project 'Birds' in ${dir}`);
    const s = openProject(dir);
    expect(s.name).toBe('Birds');
    s.close();
    log = [];
    expect(await project.run(['info', dir, '--json'])).toBe(0);
    expect(JSON.parse(log.join('\n'))).toMatchObject({ name: 'Birds', schema: SCHEMA_VERSION, revision: 0, images: { all: 0 }, annotations: 0, classes: [], models: [] });
  });

  it('explains what is wrong', async () => {
    await expect(project.run(['create'])).rejects.toThrow(/needs exactly one folder/);
    await expect(project.run(['info', t.dir])).rejects.toThrow(/is not an HST Studio project/);
    await expect(project.run(['rename', t.dir])).rejects.toThrow(/unknown subcommand 'rename'/);
    await expect(project.run(['create', t.dir, '--colour', 'red'])).rejects.toThrow(/--colour/);
  });
});
