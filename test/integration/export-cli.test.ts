// `hst-studio export-model` on a project with a model version: every format lands complete at OUT.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModelCommand } from '../../src-main/cli/commands/export-model';
import { createProject } from '../../src-main/core/store/project';
import { saveTaskModel } from '../../src-main/core/task-model/model-spec';
import { readAdapterInfo } from '../../src-main/core/export/adapter';
import type { ExportSource } from '../../src-main/core/export/export-source';
import { installBackbone, makeSource, setup, tmp } from '../core/export/helpers';

let dir: string;
let proj: string;
let src: ExportSource;
const prevBackend = process.env.HST_BACKEND;

beforeAll(async () => {
  process.env.HST_BACKEND = 'cpu';
  await setup();
  dir = tmp('hst-export-cli-');
  src = await makeSource(await installBackbone(dir));
  proj = join(dir, 'proj');
  const store = createProject(proj);
  try {
    mkdirSync(join(proj, 'models', 'v1'), { recursive: true });
    await saveTaskModel(src.model, src.spec, join(proj, 'models', 'v1', 'model.safetensors'));
    store.addModelVersion({ name: 'first run', task: 'detect', config: {}, metrics: { box_ap: 0.42 }, datasetRevision: 3, files: ['models/v1/model.safetensors'], active: true });
  } finally {
    store.close();
  }
});
afterAll(() => {
  src?.model.dispose();
  if (prevBackend === undefined) delete process.env.HST_BACKEND;
  else process.env.HST_BACKEND = prevBackend;
});

describe('hst-studio export-model', () => {
  it('exports the active version in each format', async () => {
    const out = join(dir, 'out');
    expect(await exportModelCommand.run([proj, '--format', 'adapter', join(out, 'a.safetensors')])).toBe(0);
    expect((await readAdapterInfo(join(out, 'a.safetensors'))).backbone.id).toBe('tiny-vit-test');
    expect(await exportModelCommand.run([proj, '--version', '1', '--format', 'safetensors', join(out, 'full')])).toBe(0);
    expect(existsSync(join(out, 'full.safetensors')) && existsSync(join(out, 'full.json'))).toBe(true);
    expect(await exportModelCommand.run([proj, '--format', 'tfjs', join(out, 'tfjs')])).toBe(0);
    expect(readdirSync(join(out, 'tfjs'))).toContain('inference.mjs');
    expect(await exportModelCommand.run([proj, '--format', 'onnx', join(out, 'onnx')])).toBe(0);
    expect(readdirSync(join(out, 'onnx'))).toContain('model.onnx');
    expect(readdirSync(out).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('bad arguments and a missing version are sentences', async () => {
    await expect(exportModelCommand.run([proj, '--format', 'keras', join(dir, 'x')])).rejects.toThrow(/--format must be one of tfjs, onnx, safetensors, adapter/);
    await expect(exportModelCommand.run([proj, '--version', '9', '--format', 'tfjs', join(dir, 'x')])).rejects.toThrow(/no model version 9/);
    const empty = join(dir, 'empty-proj');
    createProject(empty).close();
    await expect(exportModelCommand.run([empty, '--format', 'onnx', join(dir, 'x')])).rejects.toThrow(/has no trained model yet: fine-tune one first .*hst-studio train/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    await expect(exportModelCommand.run([join(dir, 'nowhere'), '--format', 'tfjs', join(dir, 'x')])).rejects.toThrow(/does not exist|not an HST Studio project/);
  });
});
