import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { electronVersionFor, planRebuild } from '../../scripts/rebuild-electron.mjs';

describe('scripts/rebuild-electron.mjs', () => {
  it('plans an out-of-tree rebuild that never touches node_modules', () => {
    const plan = planRebuild({ electronVersion: '39.5.0', arch: 'x64' });
    const root = process.cwd();
    expect(plan.electronVersion).toBe('39.5.0');
    expect(plan.betterSqlite3.dir).toBe(join(root, 'node_modules', 'better-sqlite3'));
    expect(plan.output).toBe(join(root, 'build', 'electron-native', 'better_sqlite3.node'));
    expect(plan.manifest).toBe(join(root, 'build', 'electron-native', 'manifest.json'));
    expect(plan.workModule.startsWith(join(root, 'build', 'electron-native', 'work'))).toBe(true);
  });

  it('takes the Electron version from package.json when electron is not installed', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(electronVersionFor(process.cwd(), undefined)).toBe(pkg.optionalDependencies.electron.replace(/^[\^~]/, ''));
    expect(electronVersionFor(process.cwd(), '40.0.0')).toBe('40.0.0');
  });

  it('--dry-run prints the plan and builds nothing', () => {
    const out = execFileSync('node', ['scripts/rebuild-electron.mjs', '--dry-run', '--electron-version', '39.5.0'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ electronVersion: '39.5.0', betterSqlite3: { version: expect.stringMatching(/^12\./) } });
  });
});
