// Security audit: @doyensec/electronegativity over the Electron sources (TypeScript) and the built renderer
// (it cannot read .vue files, so it scans Vite's output), in one run so its global checks see both sides.
// Offline: the runner stubs its translation download and AvailableSecurityFixesGlobalCheck (which queries
// the internet for Electron releases) is excluded. Every finding of severity MEDIUM or higher must be
// justified in .electronegativity-allowlist.json; entries that no longer match anything fail too.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Finding {
  id: string;
  file: string;
  line: number;
  severity: string;
  severityValue: number;
  confidence: string;
  sample: string;
}
interface Report {
  atomicChecks: number;
  globalChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Finding[];
}
interface Entry {
  id: string;
  file: string;
  match: string;
  reason: string;
}

const root = process.cwd();
const MEDIUM = 2;
const allowlist = (JSON.parse(readFileSync(join(root, '.electronegativity-allowlist.json'), 'utf8')) as { entries: Entry[] }).entries;
const electronVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { optionalDependencies: { electron: string } }).optionalDependencies.electron;

let report: Report;
let auditRoot: string;

beforeAll(() => {
  const renderer = join(root, 'dist', 'renderer');
  // Fail loudly rather than audit nothing.
  if (!existsSync(join(renderer, 'index.html'))) throw new Error('dist/renderer is not built: run `node scripts/build.mjs` before this test');
  auditRoot = mkdtempSync(join(tmpdir(), 'hst-audit-'));
  mkdirSync(join(auditRoot, 'src-main'), { recursive: true });
  mkdirSync(join(auditRoot, 'dist'), { recursive: true });
  cpSync(join(root, 'src-main', 'electron'), join(auditRoot, 'src-main', 'electron'), { recursive: true });
  cpSync(renderer, join(auditRoot, 'dist', 'renderer'), { recursive: true, filter: (p) => !p.endsWith('.map') });
  const out = execFileSync(process.execPath, [join(root, 'test', 'electron', 'electronegativity-run.cjs'), auditRoot, electronVersion, 'AvailableSecurityFixesGlobalCheck'], {
    encoding: 'utf8',
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  report = JSON.parse(out) as Report;
}, 180_000);

afterAll(() => {
  if (auditRoot) rmSync(auditRoot, { recursive: true, force: true });
});

const allowedBy = (f: Finding) => allowlist.find((e) => e.id === f.id && e.file === f.file && f.sample.includes(e.match));
const show = (f: Finding) => `${f.id} (${f.severity}) ${f.file}:${f.line} ${f.sample}`;

describe('electronegativity audit (offline)', () => {
  it('ran its checks and parsed every file', () => {
    expect(report.atomicChecks).toBeGreaterThanOrEqual(30);
    expect(report.globalChecks).toBeGreaterThanOrEqual(4);
    // A file it cannot parse is a file it did not audit.
    expect(report.errors.filter((e) => !e.tolerable)).toEqual([]);
  });

  it('has no medium-or-higher finding without a justification', () => {
    const unjustified = report.issues.filter((f) => f.severityValue >= MEDIUM && !allowedBy(f)).map(show);
    expect(unjustified).toEqual([]);
  });

  it('every allow-list entry still matches a finding and gives a reason', () => {
    for (const e of allowlist) {
      expect(e.reason.length, `${e.id} ${e.file}: reason`).toBeGreaterThan(40);
      const used = report.issues.some((f) => allowedBy(f) === e);
      expect(used, `stale allow-list entry ${e.id} ${e.file} '${e.match}'`).toBe(true);
    }
  });
});
