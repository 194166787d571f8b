// `hst-studio export-dataset PROJECT --format coco|yolo|voc|labelme OUT [--split train,val] [--images copy|link|symlink|none]`
import { openProject } from '../../core/store/project';
import { EXPORT_FORMATS, writeDataset, type ExportFormat } from '../../core/datasets/write-dataset';
import type { ExportOptions } from '../../core/datasets/export-common';
import { Split } from '../../contract/schemas';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio export-dataset PROJECT --format ${EXPORT_FORMATS.join('|')} OUT [--split train,val] [--images copy|link|symlink|none]

  --split   only these splits (comma-separated: train, val, test)
  --images  how image files get into OUT (default copy; link = hard link, falling back to copy)`;

const IMAGE_MODES = ['copy', 'link', 'symlink', 'none'] as const;

export const exportDatasetCommand: Command = {
  summary: 'export a project as a COCO, YOLO, Pascal VOC or LabelMe dataset',
  async run(argv) {
    const { values, positionals } = parse(argv, {
      format: { type: 'string' },
      split: { type: 'string' },
      images: { type: 'string' },
      help: { type: 'boolean' },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new Error(`expected PROJECT and OUT.\n${USAGE}`);
    const format = values.format as ExportFormat | undefined;
    if (!format || !EXPORT_FORMATS.includes(format)) {
      throw new Error(`--format must be one of ${EXPORT_FORMATS.join(', ')}${format ? ` (got '${format}')` : ''}`);
    }
    let splits: Split[] | undefined;
    if (values.split) {
      splits = values.split.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
        const r = Split.safeParse(s);
        if (!r.success) throw new Error(`unknown split '${s}'; expected train, val or test`);
        return r.data;
      });
    }
    const images = (values.images ?? 'copy') as ExportOptions['images'];
    if (!IMAGE_MODES.includes(images as (typeof IMAGE_MODES)[number])) {
      throw new Error(`--images must be one of ${IMAGE_MODES.join(', ')}`);
    }
    const [projectDir, out] = positionals;
    const store = openProject(projectDir);
    try {
      const ds = store.toDataset({ splits });
      const report = await writeDataset(format, ds, out, { splits, images });
      for (const c of report.converted) console.log(`converted: ${c}`);
      for (const d of report.dropped) console.log(`dropped: ${d}`);
      // annotations the project holds but that cannot be exported (bad geometry stored before it was checked)
      for (const i of ds.issues) console.log(`skipped: ${i.record ?? i.file}: ${i.message}`);
      console.log(`exported ${ds.images.length} image(s), ${ds.annotations.length} annotation(s), ${ds.classes.length} class(es) as ${format} to ${out} (${report.files.length} files)`);
      return 0;
    } finally {
      store.close();
    }
  },
};
