// `npm run bench -- compute store` runs the named benchmarks (all of bench/registry.ts when none are
// named), prints each table and writes it to bench/results/<name>.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchmarks } from './registry';
import { childMarker } from './child';
import type { BenchCell, BenchTable } from './types';

/** The repository root: the nearest folder above this file (src or dist/bench) with package.json. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  return String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function toMarkdown(t: BenchTable, when = new Date()): string {
  let columns = t.columns;
  if (!columns) {
    const seen = new Set<string>();
    for (const r of t.rows) if (!Array.isArray(r)) for (const k of Object.keys(r)) seen.add(k);
    columns = [...seen];
  }
  const lines = [`# ${t.title}`, '', `Measured ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC.`, ''];
  lines.push(`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`);
  for (const r of t.rows) {
    const cells: readonly unknown[] = Array.isArray(r) ? (r as readonly BenchCell[]) : columns.map((c) => (r as Record<string, unknown>)[c]);
    lines.push(`| ${columns.map((_, i) => cell(cells[i])).join(' | ')} |`);
  }
  if (t.notes?.length) lines.push('', ...t.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--child') {
    const mod = await benchmarks[argv[1]]?.();
    if (!mod?.child) throw new Error(`benchmark '${argv[1]}' has no child mode`);
    const result = await mod.child();
    process.stdout.write(`\n${childMarker()}${JSON.stringify(result)}\n`);
    return 0;
  }
  const names = argv.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length) {
    console.error(`unknown benchmark${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Known: ${Object.keys(benchmarks).join(', ')}.`);
    return 2;
  }
  const outDir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const name of names.length ? names : Object.keys(benchmarks)) {
    try {
      const table = await (await benchmarks[name]()).run();
      const md = toMarkdown(table);
      const file = path.join(outDir, `${name}.md`);
      fs.writeFileSync(`${file}.tmp`, md);
      fs.renameSync(`${file}.tmp`, file);
      console.log(md);
      console.log(`(written to ${path.relative(process.cwd(), file)})\n`);
    } catch (err) {
      failed++;
      console.error(`benchmark ${name} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
