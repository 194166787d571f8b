// The recent-projects list, kept in the user data dir as a small JSON file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RecentProject } from '../../contract/api';

export function userDataDir(): string {
  if (process.env.HST_DATA_DIR) return process.env.HST_DATA_DIR;
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'hst-studio');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'hst-studio');
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'hst-studio');
}

const MAX = 12;

export class RecentList {
  constructor(private file = join(userDataDir(), 'recent-projects.json')) {}

  list(): RecentProject[] {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (!Array.isArray(data)) return [];
      return data.filter(
        (r): r is RecentProject => !!r && typeof r.dir === 'string' && typeof r.name === 'string' && Number.isInteger(r.openedAt),
      );
    } catch {
      return []; // a missing or corrupt list is not worth an error: it is rebuilt on the next open
    }
  }

  touch(dir: string, name: string): void {
    const items = [{ dir, name, openedAt: Date.now() }, ...this.list().filter((r) => r.dir !== dir)].slice(0, MAX);
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, JSON.stringify(items, null, 2));
    } catch {
      // read-only home: the studio still works, only the list is not remembered
    }
  }
}
