// The worker's `export-training` and `import-model` jobs: the PyTorch trainer's way out (a training bundle) and
// back in (a trained .safetensors file → model version, evaluated), off the studio's main thread.
import { z } from 'zod';
import type { FromWorker } from './protocol';
import { initCompute } from '../compute/engine';
import { exportTrainingBundle } from '../export/training-bundle';
import { importTrainedModel } from '../export/import-trained';

export const ExportTrainingJobConfig = z.object({ project: z.string().min(1), out: z.string().min(1), version: z.number().int().positive().optional(), backend: z.string().optional() }).strict();
export type ExportTrainingJobConfig = z.infer<typeof ExportTrainingJobConfig>;
export interface ExportTrainingJobResult {
  out: string;
  command: string;
  images: Record<string, number>;
}

export const ImportModelJobConfig = z.object({ project: z.string().min(1), file: z.string().min(1), backend: z.string().optional() }).strict();
export type ImportModelJobConfig = z.infer<typeof ImportModelJobConfig>;
export interface ImportModelJobResult {
  modelVersion: number;
  name: string;
  summary: string;
}

function bad(jobId: string, what: string, e: z.ZodError): FromWorker {
  const issue = e.issues[0];
  return { type: 'done', jobId, status: 'error', message: `${what} config: ${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
}

export async function runExportTrainingJob(jobId: string, config: unknown, post: (m: FromWorker) => void, signal: AbortSignal): Promise<FromWorker> {
  const p = ExportTrainingJobConfig.safeParse(config ?? {});
  if (!p.success) return bad(jobId, 'export-training', p.error);
  await initCompute(p.data.backend ? { backend: p.data.backend } : {});
  const r = await exportTrainingBundle(p.data.project, p.data.out, { version: p.data.version }, {
    signal,
    onProgress: (f, label) => post({ type: 'progress', jobId, fraction: f, message: label?.slice(0, 500) }),
  });
  const result: ExportTrainingJobResult = { out: r.out, command: r.command, images: r.images };
  return { type: 'done', jobId, status: 'ok', result };
}

export async function runImportModelJob(jobId: string, config: unknown, post: (m: FromWorker) => void, signal: AbortSignal): Promise<FromWorker> {
  const p = ImportModelJobConfig.safeParse(config ?? {});
  if (!p.success) return bad(jobId, 'import-model', p.error);
  await initCompute(p.data.backend ? { backend: p.data.backend } : {});
  let step = 0;
  const r = await importTrainedModel(p.data.project, p.data.file, { signal, onPhase: (m) => post({ type: 'progress', jobId, fraction: Math.min(0.9, 0.3 * ++step), message: m }) });
  const m = r.metrics;
  const parts = [m?.bbox && `box AP50 ${m.bbox.AP50.toFixed(3)}`, m?.segm && `mask AP50 ${m.segm.AP50.toFixed(3)}`, m?.semantic?.mIoU != null && `mIoU ${m.semantic.mIoU.toFixed(3)}`].filter(Boolean);
  const result: ImportModelJobResult = { modelVersion: r.modelVersion, name: r.name, summary: `imported ${r.origin.file} (${r.origin.trainer}) as model version ${r.modelVersion}${parts.length ? `; val: ${parts.join(', ')}` : ''}` };
  return { type: 'done', jobId, status: 'ok', result };
}
