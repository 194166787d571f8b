// Full checkpoint export for training further with the authors' PyTorch code: one safetensors file with the
// official ViT_HSN state_dict names and layouts (the HST part is exactly what saveHstCheckpoint writes; the task
// heads follow under `heads.*`, classification under the official `head.*`/`fc_norm.*`) plus `<name>.json` next
// to it holding the authors' constructor config (`config`) and the studio's task-model spec.
import { serializeSafetensors } from '../io/safetensors';
import { configToJson, sidecarConfigPath } from '../model/weights';
import type { HstConfigInput } from '../model/config';
import type { TaskModelSpec } from '../task-model/model-spec';
import { rm } from 'node:fs/promises';
import { AtomicOutput, describeIoError, ExportCancelled, type ExportIo } from './atomic-output';
import type { ExportSource } from './export-source';
import { torchState } from './torch-state';

/** The spec as it is now (config and backbone from the live model). */
export function currentSpec(src: ExportSource): TaskModelSpec {
  return { ...src.spec, hst: configToJson(src.model.hst.config) as HstConfigInput, backbone: src.model.hst.backboneSource };
}

export async function exportSafetensors(src: ExportSource, out: string, io: ExportIo = {}): Promise<{ weights: string; config: string; bytes: number }> {
  if (!/\.safetensors$/i.test(out)) out = `${out}.safetensors`;
  const spec = currentSpec(src);
  const cfg = configToJson(src.model.hst.config);
  const configOut = sidecarConfigPath(out);
  // The config is committed first and the weights last, so a weights file is never there without its config.
  const c = await AtomicOutput.begin(configOut, 'file', io);
  let o: AtomicOutput | null = null;
  try {
    o = await AtomicOutput.begin(out, 'file', io);
    o.progress(0, 'collecting tensors');
    const tensors = torchState(src.model);
    o.checkCancel();
    const data = serializeSafetensors(tensors, {
      format: 'pt',
      layout: 'PyTorch state_dict of ViT_HSN (+ heads.*): Linear (out,in), Conv (out,in,kh,kw)',
      hst_config: JSON.stringify(cfg),
      backbone: JSON.stringify(spec.backbone),
      task_model: JSON.stringify(spec),
    });
    o.progress(0.5, 'writing');
    await c.write('', JSON.stringify({ config: cfg, ...spec, metrics: src.metrics ?? {} }, null, 1));
    await o.write('', data);
    await c.commit();
    await o.commit();
    o.progress(1, 'done');
  } catch (err) {
    await o?.discard().catch(() => undefined);
    await c.discard().catch(() => undefined);
    if (c.committed && !o?.committed) await rm(configOut, { force: true }).catch(() => undefined);
    throw err instanceof ExportCancelled ? err : describeIoError(err, out);
  }
  const bytes = o.bytes + c.bytes;
  return { weights: out, config: configOut, bytes };
}
