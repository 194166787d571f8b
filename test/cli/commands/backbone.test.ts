import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src-main/cli/main';
import { readFixture } from '../../core/model/fixtures';
import { serializeSafetensors } from '../../../src-main/core/io/safetensors';

async function capture(fn: () => Promise<number>) {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (m: unknown) => out.push(String(m));
  console.error = (m: unknown) => err.push(String(m));
  try {
    return { rc: await fn(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('hst-studio backbone', () => {
  it('imports, lists and removes a timm checkpoint; explains errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bbcli-'));
    const w = await readFixture('vit_tiny', 'weights_timm.safetensors');
    const file = join(dir, 'vit_tiny.safetensors');
    writeFileSync(file, serializeSafetensors(w.tensors, w.metadata));
    const dd = ['--data-dir', dir];
    let r = await capture(() => main(['backbone', 'import', file, '--heads', '2', ...dd]));
    expect(r.rc).toBe(0);
    expect(r.out).toMatch(/installed vit_tiny .*D=32, depth 2, patch 16, native 64px, 2 heads/);
    r = await capture(() => main(['backbone', 'list', ...dd]));
    expect(r.out).toMatch(/^vit_tiny/);
    r = await capture(() => main(['backbone', 'list', '--catalogue']));
    expect(r.out).toMatch(/vit-base-16-augreg-in21k.*Apache-2.0/);
    expect(r.out).toMatch(/huggingface\.co\/timm\/vit_small_patch14_dinov2\.lvd142m/);
    r = await capture(() => main(['backbone', 'remove', 'vit_tiny', ...dd]));
    expect(r.rc).toBe(0);
    r = await capture(() => main(['backbone', 'remove', 'vit_tiny', ...dd]));
    expect(r.rc).toBe(1);
    expect(r.err).toMatch(/no backbone 'vit_tiny' installed/);
    r = await capture(() => main(['backbone', 'download', 'nope', ...dd]));
    expect(r.err).toMatch(/not in the catalogue/);
  });
});
