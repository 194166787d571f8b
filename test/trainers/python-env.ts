// Finds a python3 that has torch, numpy and PIL (Debian's python3-torch lives under /usr/bin/python3, which a
// pyenv or venv python3 on PATH may shadow). HST_PYTHON overrides the search.
//
// When none is found, the PyTorch trainer tests must not pass silently: under CI (CI=true) they fail with the
// reason; locally they are skipped and the reason is printed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const trainerDir = join(repoRoot, 'trainers', 'pytorch');

export interface PythonEnv {
  python: string | null;
  /** why no python was found (null when found) */
  reason: string | null;
  torch?: string;
}

let cached: PythonEnv | null = null;

export function findTorchPython(): PythonEnv {
  if (cached) return cached;
  const candidates = process.env.HST_PYTHON ? [process.env.HST_PYTHON] : ['python3', '/usr/bin/python3'];
  const tried: string[] = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy, PIL; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return (cached = { python: py, reason: null, torch: r.stdout.trim() });
    tried.push(`${py}: ${r.error ? r.error.message : (r.stderr || '').trim().split('\n').at(-1)}`);
  }
  return (cached = {
    python: null,
    reason: `no python3 with torch, numpy and PIL (tried ${tried.join('; ')}); install Debian's python3-torch python3-numpy python3-pil (.ci/run does) or set HST_PYTHON`,
  });
}

/** Environment for the python processes: one thread each (tests share 2 cores), the package on PYTHONPATH. */
export function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONPATH: trainerDir, PYTHONDONTWRITEBYTECODE: '1', ...extra };
}

export function runPython(args: string[], opts: { cwd?: string; timeout?: number; env?: Record<string, string> } = {}) {
  const { python } = findTorchPython();
  if (!python) throw new Error(findTorchPython().reason!);
  const r = spawnSync(python, args, { cwd: opts.cwd ?? trainerDir, env: pythonEnv(opts.env), encoding: 'utf8', timeout: opts.timeout ?? 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** True when the tests may run; otherwise prints why and, under CI, makes the caller's suite fail. */
export function torchAvailable(): boolean {
  const env = findTorchPython();
  if (env.python) return true;
  console.warn(`[pytorch trainer tests] ${process.env.CI ? 'FAILING' : 'skipped'}: ${env.reason}`);
  return false;
}
