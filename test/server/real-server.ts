// A real StudioService (SQLite stores) behind a real HTTP server on a free loopback port, in a temp folder: what
// the server-level tests start before each file and close after it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecentList } from '../../src-main/core/app/recent';
import { sqliteStores } from '../../src-main/core/app/sqlite-stores';
import { StudioService } from '../../src-main/core/app/studio-service';
import { startServer, type RunningServer } from '../../src-main/server/http-server';

export interface RealServer {
  tmp: string;
  service: StudioService;
  srv: RunningServer;
  close(): Promise<void>;
}

/** `prepare(tmp)` runs before the server starts (e.g. to write files into `<tmp>/web`, the static folder). */
export async function startRealServer(prefix: string, prepare?: (tmp: string) => void): Promise<RealServer> {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  prepare?.(tmp);
  const service = new StudioService({ mode: 'server', stores: sqliteStores, doctor: async () => ({ backend: 'cpu', threads: 1, tfjsVersion: 'x', extraKernels: [], notes: [] }), recent: new RecentList(join(tmp, 'recent.json')) });
  const srv = await startServer({ service, staticDir: join(tmp, 'web'), port: 0 });
  return {
    tmp,
    service,
    srv,
    async close() {
      await srv.close();
      service.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
