// Exports that cannot complete say why and leave nothing that looks like a finished export.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject } from '../../../src-main/core/store/project';
import { exportModel, loadVersionForExport, pickVersion, type ExportSource, type WriteFn } from '../../../src-main/core/export/index';
import { exportTfjs } from '../../../src-main/core/export/tfjs-export';
import { installBackbone, makeSource, setup, tmp } from './helpers';

let dir: string;
let src: ExportSource;

beforeAll(async () => {
  await setup();
  dir = tmp();
  src = await makeSource(await installBackbone(dir));
});
afterAll(() => src?.model.dispose());

/** A disk that fills up after `quota` bytes: the write that crosses it stores what fits, then fails with ENOSPC. */
function fullDisk(quota: number): WriteFn {
  let used = 0;
  return async (path, data) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (used + bytes.length > quota) {
      await writeFile(path, bytes.subarray(0, Math.max(0, quota - used)));
      used = quota;
      throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
    }
    used += bytes.length;
    await writeFile(path, bytes);
  };
}

/** Nothing named like the output (or its partial) in its folder. */
function leftovers(parent: string, base: string): string[] {
  return existsSync(parent) ? readdirSync(parent).filter((n) => n.startsWith(base)) : [];
}

describe('export bad cases', () => {
  it('a project without a trained model: a clear message', async () => {
    const p = join(tmp(), 'proj');
    createProject(p).close();
    await expect(loadVersionForExport(p)).rejects.toThrow(/has no trained model yet: fine-tune one first/);
    expect(() => pickVersion([], 'P', 3)).toThrow(/no trained model/);
  });

  it('an unknown model version: names the versions that exist', () => {
    const v = { id: 2, name: 'v2', task: 'detect', config: {}, metrics: {}, datasetRevision: 1, files: [], parentId: null, active: true, createdAt: 1 };
    expect(() => pickVersion([v], 'P', 7)).toThrow(/no model version 7 \(versions: 2\)/);
    expect(pickVersion([v, { ...v, id: 3, active: false, createdAt: 5 }], 'P').id).toBe(2); // the active one
  });

  for (const format of ['tfjs', 'onnx', 'safetensors', 'adapter'] as const) {
    it(`disk full during a ${format} export: a clear message, no partial output left`, async () => {
      const parent = join(dir, `full-${format}`);
      mkdirSync(parent);
      const out = join(parent, format === 'safetensors' || format === 'adapter' ? 'model.safetensors' : 'model');
      await expect(exportModel(src, format, out, { write: fullDisk(20_000) })).rejects.toThrow(/disk is full \(ENOSPC\).*Nothing was left/);
      expect(leftovers(parent, 'model')).toEqual([]);
    });
  }

  it('cancel in the middle of writing tfjs shards: a clear message, no partial output left', async () => {
    const parent = join(dir, 'cancel');
    mkdirSync(parent);
    const out = join(parent, 'model');
    const ac = new AbortController();
    let calls = 0;
    const onProgress = (f: number) => {
      if (f > 0 && ++calls === 2) ac.abort(); // after the second shard
    };
    await expect(exportTfjs(src, out, { signal: ac.signal, onProgress }, { shardBytes: 20_000 })).rejects.toThrow(/export cancelled; nothing was written to/);
    expect(calls).toBe(2);
    expect(leftovers(parent, 'model')).toEqual([]);
  });

  it('cancel before an ONNX / safetensors export starts writing: nothing is left', async () => {
    const parent = join(dir, 'cancel2');
    mkdirSync(parent);
    const ac = new AbortController();
    ac.abort();
    await expect(exportModel(src, 'onnx', join(parent, 'm'), { signal: ac.signal })).rejects.toThrow(/cancelled/);
    await expect(exportModel(src, 'safetensors', join(parent, 'm.safetensors'), { signal: ac.signal })).rejects.toThrow(/cancelled/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('never overwrites an existing output', async () => {
    const out = join(dir, 'exists.safetensors');
    writeFileSync(out, 'keep me');
    await expect(exportModel(src, 'adapter', out)).rejects.toThrow(/already exists/);
  });

  it('a folder that turns read-only mid-way (EACCES on the third file): a clear message, nothing left', async () => {
    const parent = join(dir, 'ro-midway');
    mkdirSync(parent);
    let n = 0;
    const write: WriteFn = async (path, data) => {
      if (++n === 3) throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
      await writeFile(path, data);
    };
    await expect(exportTfjs(src, join(parent, 'model'), { write }, { shardBytes: 20_000 })).rejects.toThrow(/no permission to write there \(EACCES\)/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('a read-only output folder: a clear message (skipped as root: root ignores permissions)', async () => {
    const { chmodSync } = await import('node:fs');
    const parent = join(dir, 'ro');
    mkdirSync(parent);
    chmodSync(parent, 0o500);
    try {
      await expect(exportModel(src, 'tfjs', join(parent, 'model'))).rejects.toThrow(/no permission to write there/);
    } finally {
      chmodSync(parent, 0o700);
    }
    expect(readdirSync(parent)).toEqual([]);
  });
});
