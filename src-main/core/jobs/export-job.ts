// The `export` job of the training worker: writes a project's model version in one export format (tfjs, ONNX,
// safetensors, adapter) off the studio's main thread, with progress and cancel (a cancelled export leaves no
// partial output that looks complete: exportModel writes atomically).
import { z } from 'zod';
import type { FromWorker } from './protocol';
import { initCompute } from '../compute/engine';
import { EXPORT_FORMATS, exportModel, loadVersionForExport } from '../export/index';

export const ExportJobConfig = z
  .object({
    project: z.string().min(1),
    /** model version id (default: the active one) */
    version: z.number().int().positive().optional(),
    format: z.enum(EXPORT_FORMATS),
    out: z.string().min(1),
    backend: z.string().optional(),
  })
  .strict();
export type ExportJobConfig = z.infer<typeof ExportJobConfig>;

export interface ExportJobResult {
  version: number | null;
  format: string;
  path: string;
  bytes: number;
}

export async function runExportJob(jobId: string, config: unknown, post: (m: FromWorker) => void, signal: AbortSignal): Promise<FromWorker> {
  const parsed = ExportJobConfig.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { type: 'done', jobId, status: 'error', message: `export config: ${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
  }
  const { backend, project, version, format, out } = parsed.data;
  await initCompute(backend ? { backend } : {});
  const src = await loadVersionForExport(project, version);
  try {
    const r = await exportModel(src, format, out, { signal, onProgress: (f, label) => post({ type: 'progress', jobId, fraction: Math.max(0, Math.min(1, f)), message: label?.slice(0, 500) }) });
    const result: ExportJobResult = { version: src.version?.id ?? null, format, path: r.path, bytes: r.bytes };
    return { type: 'done', jobId, status: 'ok', result };
  } catch (err) {
    if (signal.aborted) return { type: 'done', jobId, status: 'cancelled', message: (err as Error).message.slice(0, 2000) };
    throw err;
  } finally {
    src.model.dispose();
  }
}
