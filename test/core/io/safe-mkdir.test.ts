// Path cases that used to hang (recursive mkdir loops forever under /proc) or fail obscurely: each must be a
// clear PathError within a second.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSource, ensureDir, PathError } from '../../../src-main/core/io/safe-mkdir';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hst-safe-mkdir-'));
  writeFileSync(join(tmp, 'a-file'), 'x');
  symlinkSync(join(tmp, 'loop-b'), join(tmp, 'loop-a'));
  symlinkSync(join(tmp, 'loop-a'), join(tmp, 'loop-b'));
});
afterAll(() => {
  chmodSync(join(tmp), 0o755);
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs `f`, expects a PathError of `problem` whose message matches `msg`, within a second. */
function refused(f: () => unknown, problem: PathError['problem'], msg: RegExp): void {
  const t0 = performance.now();
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(err).toBeInstanceOf(PathError);
  expect((err as PathError).problem).toBe(problem);
  expect((err as PathError).message).toMatch(msg);
  expect((err as PathError).status).toBe(400);
}

describe('ensureDir', () => {
  it('creates missing levels below a real folder and accepts an existing one', () => {
    const p = join(tmp, 'x', 'y', 'z');
    expect(ensureDir(p)).toBe(p);
    expect(existsSync(p)).toBe(true);
    expect(ensureDir(p)).toBe(p);
  });

  it('refuses /proc and /sys at once instead of looping', () => {
    refused(() => ensureDir('/proc/self/hst', { what: 'project folder' }), 'virtual', /project folder \/proc\/self\/hst cannot be used: .*proc pseudo filesystem/);
    refused(() => ensureDir('/proc/self/hst/a/b'), 'virtual', /proc/);
    refused(() => ensureDir('/sys/hst'), 'virtual', /sys/);
    if (process.platform === 'linux') refused(() => ensureDir('/proc'), 'virtual', /proc/);
  });

  it('refuses a file where a folder is expected, naming the file', () => {
    refused(() => ensureDir(join(tmp, 'a-file')), 'not-a-folder', /a-file is a file, not a folder/);
    refused(() => ensureDir(join(tmp, 'a-file', 'sub', 'dir')), 'not-a-folder', /a-file is a file, not a folder/);
  });

  it('refuses a path through a symlink loop', () => {
    refused(() => ensureDir(join(tmp, 'loop-a', 'proj')), 'loop', /loop of symbolic links/);
    refused(() => checkSource(join(tmp, 'loop-a')), 'loop', /loop of symbolic links/);
  });

  const root = process.getuid?.() === 0;
  if (root) console.log('skipping "refuses a read-only folder": running as root, which may write into a 0555 folder');
  it.skipIf(root)('refuses a read-only folder', () => {
    const ro = join(tmp, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    refused(() => ensureDir(join(ro, 'proj')), 'read-only', /not writable/);
  });

  it('refuses NUL characters and absurd lengths', () => {
    refused(() => ensureDir(join(tmp, 'a\0b')), 'invalid', /NUL/);
    refused(() => ensureDir('/' + 'a'.repeat(5000)), 'invalid', /limit is 4096/);
  });
});

describe('checkSource', () => {
  it('accepts a real folder or file, refuses missing and virtual ones', () => {
    expect(checkSource(tmp, { kind: 'folder' })).toBe(tmp);
    expect(checkSource(join(tmp, 'a-file'), { kind: 'file' })).toBe(join(tmp, 'a-file'));
    refused(() => checkSource(join(tmp, 'nope'), { what: 'import path' }), 'not-found', /import path .*nope does not exist/);
    expect(checkSource(join(tmp, 'nope'), { allowMissing: true })).toBe(join(tmp, 'nope'));
    refused(() => checkSource('/proc/self'), 'virtual', /proc/);
    refused(() => checkSource('/sys/kernel'), 'virtual', /sys/);
    refused(() => checkSource(join(tmp, 'a-file'), { kind: 'folder' }), 'not-a-folder', /is a file, not a folder/);
  });
});
