// Run a benchmark's `child()` in a fresh Node process (same bundle, same flags) with extra
// environment, e.g. a thread count that can only be chosen before the wasm backend starts.
import { spawn } from 'node:child_process';

const MARK = '@@bench-child-result@@';

export function childMarker(): string {
  return MARK;
}

export function runChild<T>(name: string, env: Record<string, string>, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, process.argv[1], '--child', name], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      const i = out.lastIndexOf(MARK);
      if (code !== 0 || i < 0) reject(new Error(`benchmark child '${name}' (${JSON.stringify(env)}) exited with ${code}`));
      else resolve(JSON.parse(out.slice(i + MARK.length)) as T);
    });
  });
}
