// The house rules of src-main, read from the import statements themselves: no import loop between two files,
// core never reaches Electron, and the rooms of core/ depend on each other only downwards (docs/ARCHITECTURE.md).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');
const src = join(root, 'src-main');

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

interface Edge { from: string; to: string; spec: string }

/** Every relative import (static, `import type`, re-export and dynamic) of every file, resolved to a file. */
function importGraph(): { files: string[]; edges: Edge[]; bare: { from: string; spec: string }[] } {
  const files = walk(src).map((f) => relative(root, f));
  const edges: Edge[] = [];
  const bare: { from: string; spec: string }[] = [];
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (!spec.startsWith('.') || spec.includes('node_modules/')) {
        bare.push({ from: f, spec });
        continue;
      }
      const base = resolve(root, dirname(f), spec);
      const hit = [`${base}.ts`, join(base, 'index.ts'), base.replace(/\.js$/, '.ts')].find((c) => existsSync(c) && statSync(c).isFile());
      // a string that only looks like an import (generated code written out as text) names no source file
      if (!hit) continue;
      edges.push({ from: f, to: relative(root, hit), spec });
    }
  }
  return { files, edges, bare };
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

const room = (f: string): string | null => /^src-main\/core\/([^/]+)\//.exec(f)?.[1] ?? null;

describe('src-main layering', () => {
  const g = importGraph();

  it('has no import loop between files', () => {
    expect(g.files.length).toBeGreaterThan(100);
    expect(cycles(g.files, g.edges)).toEqual([]);
  });

  it('finds a loop when there is one (the checker itself)', () => {
    const files = ['a.ts', 'b.ts', 'c.ts'];
    const edges = [
      { from: 'a.ts', to: 'b.ts', spec: '' },
      { from: 'b.ts', to: 'a.ts', spec: '' },
      { from: 'b.ts', to: 'c.ts', spec: '' },
    ];
    expect(cycles(files, edges)).toEqual([['a.ts', 'b.ts']]);
  });

  it('core never imports Electron, the shell, the server or the CLI', () => {
    const bad = [
      ...g.bare.filter((b) => b.from.startsWith('src-main/core/') && /^electron(\/|$)/.test(b.spec)).map((b) => `${b.from} → ${b.spec}`),
      ...g.edges.filter((e) => e.from.startsWith('src-main/core/') && /^src-main\/(electron|server|cli)\//.test(e.to)).map((e) => `${e.from} → ${e.to}`),
    ];
    expect(bad).toEqual([]);
  });

  it('outside training/, core reaches into training/ only to start or step a training run', () => {
    // Who may: the jobs that run a training job, the service that plans and starts one, and the incremental
    // updater, whose every update is a few training steps. Everything else (export, features, eval, data,
    // task-model) sits below training and must not know it.
    const allowed = new Set(['jobs', 'app', 'incremental']);
    const bad = g.edges
      .filter((e) => room(e.from) !== null && room(e.from) !== 'training' && room(e.to) === 'training' && !allowed.has(room(e.from)!))
      .map((e) => `${e.from} → ${e.to}`);
    expect(bad).toEqual([]);
  });

  it('the rooms below training never import the rooms that run models', () => {
    const below = new Set(['model', 'heads', 'losses', 'task-model', 'data', 'io', 'geometry', 'compute']);
    const above = new Set(['training', 'jobs', 'app', 'incremental', 'export', 'features']);
    const bad = g.edges.filter((e) => below.has(room(e.from) ?? '') && above.has(room(e.to) ?? '')).map((e) => `${e.from} → ${e.to}`);
    expect(bad).toEqual([]);
  });
});
