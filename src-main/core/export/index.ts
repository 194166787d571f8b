// Model export, one entry point for the CLI (`hst-studio export-model`) and the Export dialog.
//   exportModel(source, format, out, io?)  → what was written; `out` appears complete or not at all
//   loadVersionForExport(projectDir, versionId?) → the source for a project's model version
//   importAdapter(file, backbones)          → a TaskModel rebuilt from an installed backbone + adapter
import { readyForSyncRead } from '../compute/engine';
import type { ExportIo } from './atomic-output';
import { exportAdapter } from './adapter';
import type { ExportSource } from './export-source';
import { exportOnnx } from './onnx-export';
import { exportSafetensors } from './safetensors-export';
import { exportTfjs } from './tfjs-export';

export { AtomicOutput, ExportCancelled, describeIoError, type ExportIo, type WriteFn } from './atomic-output';
export { exportAdapter, importAdapter, importAdapterToProject, readAdapterInfo, adapterTensors, ADAPTER_FORMAT } from './adapter';
export { loadVersionForExport, pickVersion, type ExportSource, type ExportClass } from './export-source';
export { exportSafetensors } from './safetensors-export';
export { exportTfjs } from './tfjs-export';
export { exportOnnx } from './onnx-export';

export const EXPORT_FORMATS = ['tfjs', 'onnx', 'safetensors', 'adapter'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportResult {
  format: ExportFormat;
  /** the file or folder written */
  path: string;
  bytes: number;
}

export async function exportModel(src: ExportSource, format: ExportFormat, out: string, io: ExportIo = {}): Promise<ExportResult> {
  // every writer reads the weights synchronously: on webgpu they are brought to the CPU first
  await readyForSyncRead(src.model.allVariables());
  const grid = src.spec.inputSize / src.model.hst.config.patch_size;
  if (Number.isInteger(grid)) await src.model.hst.vit.readyPosEmbed(grid, grid);
  switch (format) {
    case 'safetensors': {
      const r = await exportSafetensors(src, out, io);
      return { format, path: r.weights, bytes: r.bytes };
    }
    case 'adapter': {
      const r = await exportAdapter(src, out, io);
      return { format, path: r.file, bytes: r.bytes };
    }
    case 'tfjs': {
      const r = await exportTfjs(src, out, io);
      return { format, path: r.dir, bytes: r.bytes };
    }
    case 'onnx': {
      const r = await exportOnnx(src, out, io);
      return { format, path: r.dir, bytes: r.bytes };
    }
    default:
      throw new Error(`unknown export format '${String(format)}' (known: ${EXPORT_FORMATS.join(', ')})`);
  }
}
