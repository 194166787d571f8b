// One entry point for every exporter.
import { exportCoco } from './coco-export';
import type { ExportOptions, ExportReport } from './export-common';
import type { Dataset } from './types';
import { dirname } from 'node:path';
import { ensureDir } from '../io/safe-mkdir';
import { exportVoc } from './voc-export';
import { exportLabelme } from './labelme-export';
import { exportYolo } from './yolo-export';

export type ExportFormat = 'coco' | 'yolo' | 'voc' | 'labelme';
export const EXPORT_FORMATS: ExportFormat[] = ['coco', 'yolo', 'voc', 'labelme'];

export async function writeDataset(format: ExportFormat, ds: Dataset, out: string, opts: ExportOptions = {}): Promise<ExportReport> {
  // the exporters' recursive mkdirs are safe only below a checked real folder (under /proc they loop forever)
  ensureDir(format === 'coco' && out.toLowerCase().endsWith('.json') ? dirname(out) : out, { what: 'export folder' });
  switch (format) {
    case 'coco':
      return exportCoco(ds, out, opts);
    case 'yolo':
      return exportYolo(ds, out, opts);
    case 'voc':
      return exportVoc(ds, out, opts);
    case 'labelme':
      return exportLabelme(ds, out, opts);
    default:
      throw new Error(`unknown export format '${String(format)}' (expected one of ${EXPORT_FORMATS.join(', ')})`);
  }
}
