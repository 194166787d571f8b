// Facts about the machine that `doctor` reports next to the backend: GPU, Electron, data dir.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

export interface GpuInfo {
  /** An NVIDIA GPU answered nvidia-smi (it may still be unusable by libtensorflow). */
  detected: boolean;
  /** Whether the running backend computes on it. */
  inUse: boolean;
  detail: string;
}

export interface ElectronInfo {
  installed: boolean;
  /** The package is there and so is its downloaded binary. */
  binary: boolean;
  version: string | null;
}

/** `$HST_DATA_DIR`, else the per-OS user data dir (README, "Where data lives"). */
export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.HST_DATA_DIR) return path.resolve(env.HST_DATA_DIR);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'hst-studio');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'hst-studio');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'hst-studio');
}

export function electronInfo(): ElectronInfo {
  try {
    const pkgFile = require.resolve('electron/package.json');
    const version = (JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { version?: string }).version ?? null;
    // electron's install script writes path.txt once the binary is downloaded.
    const binary = fs.existsSync(path.join(path.dirname(pkgFile), 'path.txt'));
    return { installed: true, binary, version };
  } catch {
    return { installed: false, binary: false, version: null };
  }
}

/** Ask nvidia-smi (2 s at most); absence of the tool means no usable NVIDIA driver. */
export function probeNvidiaGpu(): Promise<{ detected: boolean; detail: string }> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { timeout: 2000 }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        resolve({ detected: false, detail: code === 'ENOENT' ? 'no NVIDIA GPU driver found (nvidia-smi is not installed)' : `nvidia-smi failed: ${err.message.split('\n')[0]}` });
        return;
      }
      const gpus = stdout.trim().split('\n').filter(Boolean);
      resolve(gpus.length ? { detected: true, detail: gpus.join('; ') } : { detected: false, detail: 'nvidia-smi lists no GPU' });
    });
  });
}
