// Wires the real core (SQLite stores, compute doctor) to the HTTP server: what `hst-studio serve` and
// `hst-studio start` (without Electron) run.
import { execFile } from 'node:child_process';
import { setPriority } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DoctorReport } from '../contract/api';
import { sqliteStores } from '../core/app/sqlite-stores';
import { StudioService } from '../core/app/studio-service';
import { startServer, type RunningServer } from './http-server';

export interface ServeOptions {
  host?: string;
  port?: number;
  project?: string;
  allowRemote?: boolean;
  token?: string;
}

/** dist/renderer, found from this module's own location (dist/main/… after the build). */
export function rendererDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'dist', 'renderer');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (existsSync(join(dir, 'renderer', 'index.html'))) return join(dir, 'renderer');
    dir = dirname(dir);
  }
  throw new Error('the studio UI is not built (no dist/renderer/index.html): run `npm run build` first');
}

function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        return (JSON.parse(readFileSync(p, 'utf8')) as { version?: string }).version ?? '0.0.0';
      } catch {
        break;
      }
    }
  }
  return '0.0.0';
}

let doctorOnce: Promise<DoctorReport> | undefined;

/**
 * `hst-studio doctor --json` in a child process: initialising tfjs backends blocks a thread for seconds,
 * and the server's event loop must keep answering the UI meanwhile.
 */
function doctorInChild(): Promise<DoctorReport> {
  const bin = join(packageRoot(), 'bin', 'hst-studio.js');
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [bin, 'doctor', '--json'], { timeout: 120_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return reject(new Error(`hst-studio doctor failed: ${err.message.split('\n')[0]}`));
      try {
        resolve(DoctorReport.parse(JSON.parse(stdout)));
      } catch (e) {
        reject(new Error(`hst-studio doctor printed an unexpected report: ${(e as Error).message}`));
      }
    });
    // Its ~2 s of CPU (tfjs and WebGPU adapter probes) ran while the UI first opened and competed with the
    // browser and this server for the cores; at the lowest priority it only takes what is left over.
    if (child.pid) {
      try {
        setPriority(child.pid, 19);
      } catch {
        /* not permitted on this system: it runs at normal priority */
      }
    }
  });
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++, dir = dirname(dir)) if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'hst-studio.js'))) return dir;
  throw new Error('cannot find the hst-studio package root (bin/hst-studio.js) from the server module');
}

export async function serveStudio(opts: ServeOptions): Promise<{ server: RunningServer; service: StudioService }> {
  const staticDir = rendererDir();
  const service = new StudioService({
    mode: 'server',
    version: version(),
    stores: sqliteStores,
    doctor: () => (doctorOnce ??= doctorInChild()),
  });
  if (opts.project) await service.openAtStart(opts.project);
  try {
    const server = await startServer({ service, staticDir, host: opts.host, port: opts.port, allowRemote: opts.allowRemote, token: opts.token });
    return { server, service };
  } catch (err) {
    service.close();
    throw err;
  }
}
