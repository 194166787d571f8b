// One entry point for every importer: readDataset(format, path) → neutral Dataset (nothing touches the store).
import { importCoco } from './coco-import';
import { importImagesFolder } from './images-import';
import { importLabelme } from './labelme-import';
import type { Split } from '../../contract/schemas';
import type { Dataset, DatasetFormat } from './types';
import { importVoc } from './voc-import';
import { importYolo } from './yolo-import';

export const DATASET_FORMATS: DatasetFormat[] = ['coco', 'yolo', 'voc', 'labelme', 'images'];

export interface ReadDatasetOptions {
  /** COCO only: the folder file_names are relative to. */
  imagesDir?: string;
  /** Split for images the source does not place in one. */
  split?: Split;
}

export async function readDataset(format: DatasetFormat, p: string, opts: ReadDatasetOptions = {}): Promise<Dataset> {
  const ds = await readFormat(format, p, opts);
  if (opts.split) for (const im of ds.images) im.split ??= opts.split;
  return ds;
}

function readFormat(format: DatasetFormat, p: string, opts: ReadDatasetOptions): Promise<Dataset> {
  switch (format) {
    case 'coco':
      return importCoco(p, { imagesDir: opts.imagesDir, split: opts.split });
    case 'yolo':
      return importYolo(p);
    case 'voc':
      return importVoc(p);
    case 'labelme':
      return importLabelme(p);
    case 'images':
      return importImagesFolder(p);
    default:
      throw new Error(`unknown dataset format '${String(format)}' (expected one of ${DATASET_FORMATS.join(', ')})`);
  }
}
