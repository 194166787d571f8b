import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/core/compute/engine';
import { BackboneManager } from '../../../src-main/core/backbones/manager';
import { readSafetensors, serializeSafetensors } from '../../../src-main/core/io/safetensors';
import { saveHstCheckpoint } from '../../../src-main/core/model/weights';
import { loadTaskModel } from '../../../src-main/core/task-model/model-spec';
import { exportSafetensors } from '../../../src-main/core/export/safetensors-export';
import { adapterTensors, exportAdapter, importAdapter, importAdapterToProject } from '../../../src-main/core/export/adapter';
import { loadVersionForExport } from '../../../src-main/core/export/export-source';
import { createProject } from '../../../src-main/core/store/project';
import { rawOutputs } from '../../../src-main/core/export/runtime/raw-outputs';
import type { ExportSource } from '../../../src-main/core/export/export-source';
import { BACKBONE_ID, inputBatch, installBackbone, makeSource, setup, tmp } from './helpers';

let dir: string;
let manager: BackboneManager;
let src: ExportSource;

beforeAll(async () => {
  await setup();
  dir = tmp();
  manager = await installBackbone(dir);
  src = await makeSource(manager);
});
afterAll(() => src?.model.dispose());

function outputsOf(model: ExportSource['model']): Record<string, Float32Array> {
  const x = inputBatch();
  const r = rawOutputs(model.hst, model.heads, x);
  const out = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.dataSync() as Float32Array]));
  tf.dispose([x, ...Object.values(r)]);
  return out;
}

describe('safetensors export', () => {
  it('writes the official names (HST part byte-identical to saveHstCheckpoint), heads under heads.*, and a config', async () => {
    const out = join(dir, 'full.safetensors');
    const r = await exportSafetensors(src, out);
    expect(existsSync(r.weights) && existsSync(r.config)).toBe(true);
    const file = await readSafetensors(out);
    const ref = join(dir, 'hst-only.safetensors');
    await saveHstCheckpoint(src.model.hst, ref);
    const hstFile = await readSafetensors(ref);
    for (const [name, t] of hstFile.tensors) {
      const got = file.tensors.get(name);
      expect(got, name).toBeDefined();
      expect(Buffer.from(got!.data).equals(Buffer.from(t.data)), name).toBe(true);
    }
    const extra = [...file.tensors.keys()].filter((n) => !hstFile.tensors.has(n));
    expect(extra.length).toBeGreaterThan(0);
    expect(extra.every((n) => n.startsWith('heads.') || n.startsWith('head.') || n.startsWith('fc_norm.'))).toBe(true);
    expect(file.tensors.get('heads.det.cls_logits.weight')?.shape.length ?? 4).toBe(4); // conv in (out,in,kh,kw)
    expect(JSON.parse(file.metadata.hst_config).embed_dim).toBe(24);
    // the studio reloads it as a task model with identical outputs
    const { model } = await loadTaskModel(out);
    const a = outputsOf(src.model);
    const b = outputsOf(model);
    for (const k of Object.keys(a)) expect(Buffer.from(b[k].buffer).equals(Buffer.from(a[k].buffer)), k).toBe(true);
    model.dispose();
  });
});

describe('adapter export', () => {
  it('holds only the trainable set, buffers and heads, with the backbone name and sha256', async () => {
    const out = join(dir, 'model.adapter.safetensors');
    const r = await exportAdapter(src, out);
    const f = await readSafetensors(out);
    const names = [...f.tensors.keys()];
    expect(names).toContain('m_embeddings.0');
    expect(names).toContain('blocks.0.norm1.weight');
    expect(names).toContain('m_patch_embed1.conv.1.running_mean');
    expect(names).not.toContain('blocks.0.attn.qkv.weight');
    expect(names).not.toContain('pos_embed');
    expect(names).not.toContain('norm.weight');
    const full = serializeSafetensors(src.model.exportTensors()).byteLength;
    expect(r.bytes).toBeLessThan(full);
    const bb = JSON.parse(f.metadata.backbone);
    expect(bb.id).toBe(BACKBONE_ID);
    expect(bb.sha256).toBe((await manager.get(BACKBONE_ID))!.sha256);
    expect(adapterTensors(src.model).size).toBe(f.tensors.size);
  });

  it('backbone + adapter restores the model bit-exactly', async () => {
    const out = join(dir, 'restore.adapter.safetensors');
    await exportAdapter(src, out);
    const { model } = await importAdapter(out, manager);
    const a = outputsOf(src.model);
    const b = outputsOf(model);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(Buffer.from(b[k].buffer).equals(Buffer.from(a[k].buffer)), k).toBe(true);
    model.dispose();
  });

  it('imported into a project, the adapter becomes a model version that exports like the original', async () => {
    const out = join(dir, 'proj.adapter.safetensors');
    await exportAdapter(src, out);
    const proj = join(tmp(), 'p');
    createProject(proj).close();
    const v = await importAdapterToProject(proj, out, manager, { name: 'from colleague' });
    expect(v.name).toBe('from colleague');
    expect(v.metrics).toEqual({ box_ap: 0.5 });
    const again = await loadVersionForExport(proj, v.id);
    const a = outputsOf(src.model);
    const b = outputsOf(again.model);
    for (const k of Object.keys(a)) expect(Buffer.from(b[k].buffer).equals(Buffer.from(a[k].buffer)), k).toBe(true);
    again.model.dispose();
  });

  it('importing into a studio without the backbone names it and says how to get it', async () => {
    const out = join(dir, 'missing.adapter.safetensors');
    await exportAdapter(src, out);
    const empty = new BackboneManager(tmp());
    await expect(importAdapter(out, empty)).rejects.toThrow(new RegExp(`needs the backbone '${BACKBONE_ID}'.*hst-studio backbone import`));
  });

  it('refuses a different file installed under the same backbone name', async () => {
    const out = join(dir, 'other.adapter.safetensors');
    await exportAdapter(src, out);
    const otherDir = tmp();
    const other = await installBackbone(otherDir, 99);
    await expect(importAdapter(out, other)).rejects.toThrow(/is not the file this adapter was trained on/);
  });

  it('refuses an adapter for a model on a random backbone', async () => {
    const saved = src.model.hst.backboneSource;
    src.model.hst.backboneSource = { kind: 'random', label: 'random (untrained) backbone' };
    try {
      await expect(exportAdapter(src, join(dir, 'random.safetensors'))).rejects.toThrow(/random \(untrained\) backbone/);
      expect(existsSync(join(dir, 'random.safetensors'))).toBe(false);
    } finally {
      src.model.hst.backboneSource = saved;
    }
  });

  it('no partial files are left next to the exports', () => {
    expect(readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
    expect(statSync(join(dir, 'full.safetensors')).size).toBeGreaterThan(0);
  });
});
