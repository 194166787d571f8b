// Kills a writer with SIGKILL at random moments, 50+ times, and checks after each kill that the database is
// intact and holds every changeset the writer reported as committed (and nothing half-applied).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyToState, CRASH_CLASS, CRASH_FIRST, CRASH_IMAGES, planChangeset, type CrashState } from '../../src-main/core/store/crash-plan';
import { createProject, openProject } from '../../src-main/core/store/project';
import { annotationFromRow, type AnnotationRow } from '../../src-main/core/store/rows';
import { tempDir } from '../core/store/helpers';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Bundled next to node_modules so the child resolves better-sqlite3/sharp/zod like the app does.
const outDir = join(root, 'node_modules', '.cache', `hst-crash-${process.pid}`);
const child = join(outDir, 'crash-child.mjs');
const TRIALS = 50;

let t: ReturnType<typeof tempDir>;
beforeAll(async () => {
  t = tempDir('hst-crash-');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'src-main/core/store/crash-child.entry.ts')],
    outfile: child, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error',
  });
});
afterAll(() => {
  t.cleanup();
  rmSync(outDir, { recursive: true, force: true });
});

/** Seeded so a failure can be replayed (the seed is in the test name). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const SEED = Number(process.env.HST_CRASH_SEED ?? Date.now() % 100000);

/**
 * `fromSpawn`: kill `delayMs` after starting (while it opens / recovers the WAL); otherwise once it has
 * reported `afterCommits` commits, `delayMs` later — a moment inside its write loop that the machine's load
 * cannot push past the end of the trial.
 */
function runAndKill(dir: string, delayMs: number, fromSpawn: boolean, afterCommits: number): Promise<{ reported: number[]; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = () => p.kill('SIGKILL');
    if (fromSpawn) timer = setTimeout(kill, delayMs);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!timer && out.split('\n').length - 2 >= afterCommits) timer = setTimeout(kill, delayMs);
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (_code, signal) => {
      clearTimeout(timer);
      const reported = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
      resolve({ reported, signal, stderr });
    });
  });
}

describe('crash safety', () => {
  it(`survives ${TRIALS} SIGKILLs of a writer without losing a reported commit (seed ${SEED})`, async () => {
    const dir = join(t.dir, 'proj');
    const store = createProject(dir);
    for (let i = 0; i < CRASH_IMAGES; i++) {
      store.insertImage({ hash: String(i).padStart(64, '0'), path: `media/${i}.jpg`, linked: false, fileName: `${i}.jpg`, format: 'jpeg', bytes: 1, width: 100, height: 100, orientation: 1 });
    }
    store.apply({ classes: { created: [{ id: CRASH_CLASS, name: 'thing', color: '#ff0000', hotkey: null, order: 0 }], updated: [], deleted: [] } });
    expect(store.revision()).toBe(CRASH_FIRST - 1);
    store.close();

    // the expected state, advanced revision by revision as the writer gets further
    const want: CrashState = new Map();
    let wantRev = CRASH_FIRST - 1;
    const rand = rng(SEED);
    let last = CRASH_FIRST - 1;
    let killedMidRun = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const fromSpawn = rand() < 0.15; // sometimes kill while the child is still opening / recovering the WAL
      const delay = fromSpawn ? 20 + rand() * 150 : rand() * 8;
      const { reported, signal, stderr } = await runAndKill(dir, delay, fromSpawn, 1 + Math.floor(rand() * 30));
      expect(stderr, `trial ${trial}: the writer failed on its own`).toBe('');
      expect(signal, `trial ${trial}`).toBe('SIGKILL');
      if (reported.length) {
        expect(reported[0], `trial ${trial}: the writer continued from the last commit`).toBeGreaterThan(last);
        last = reported[reported.length - 1];
        killedMidRun++;
      }

      const s = openProject(dir);
      try {
        expect(s.db.pragma('integrity_check', { simple: true }), `trial ${trial}`).toBe('ok');
        expect(s.db.pragma('foreign_key_check')).toEqual([]);
        const rev = s.revision();
        // every reported commit is there; at most one more (committed, killed before it could print)
        expect(rev, `trial ${trial}: reported ${last}, found ${rev}`).toBeGreaterThanOrEqual(last);
        expect(rev, `trial ${trial}`).toBeLessThanOrEqual(last + 1);
        last = rev;
        for (; wantRev < rev; wantRev++) applyToState(want, planChangeset(wantRev + 1, want));
        const rows = s.db.prepare('SELECT * FROM annotations ORDER BY id').all() as AnnotationRow[];
        expect(rows.length, `trial ${trial}: annotation count at revision ${rev}`).toBe(want.size);
        for (const r of rows) expect(annotationFromRow(r)).toEqual(want.get(r.id));
        expect((s.db.prepare('SELECT MAX(revision) AS m FROM revisions').get() as { m: number }).m).toBe(rev);
      } finally {
        s.close();
      }
    }
    expect(killedMidRun).toBeGreaterThan(TRIALS / 2);
    expect(last).toBeGreaterThan(TRIALS);
    console.log(`crash safety: ${TRIALS} kills, ${killedMidRun} mid-run, reached revision ${last}`);
  }, 120_000);
});
