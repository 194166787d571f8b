// `hst-studio import PROJECT --format coco|yolo|voc|labelme|images PATH [--copy|--link]`
// Reads the dataset into the neutral form first (nothing touches the project), prints every issue as
// "file: record: message", and only then hands it to the store, which writes it in one transaction.
import { openProject } from '../../core/store/project';
import { detectFormat } from '../../core/datasets/detect-format';
import { formatIssue } from '../../core/datasets/issues';
import { DATASET_FORMATS, readDataset } from '../../core/datasets/read-dataset';
import type { DatasetFormat } from '../../core/datasets/types';
import { Split } from '../../contract/schemas';
import { checkSource } from '../../core/io/safe-mkdir';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio import PROJECT [--format ${DATASET_FORMATS.join('|')}] PATH [--copy|--link] [--images-dir DIR]

  --format      dataset format (detected from PATH when left out)
  --copy        copy images into the project's media/ folder (default)
  --link        reference the images where they are
  --split       split for images the dataset does not place in one (COCO: read from the
                file name, e.g. instances_val2017.json → val; otherwise train)
  --images-dir  COCO only: the folder that file_names are relative to`;

export const importCommand: Command = {
  summary: 'import a COCO, YOLO, Pascal VOC, LabelMe dataset or a folder of images into a project',
  async run(argv) {
    const { values, positionals } = parse(argv, {
      format: { type: 'string' },
      copy: { type: 'boolean' },
      link: { type: 'boolean' },
      'images-dir': { type: 'string' },
      split: { type: 'string' },
      help: { type: 'boolean' },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new Error(`expected PROJECT and PATH.\n${USAGE}`);
    if (values.copy && values.link) throw new Error('choose one of --copy and --link');
    const [projectDir, given] = positionals;
    // /proc, /sys, a symlink loop or an unreadable path: a clear sentence now, not a walk that never ends
    const source = checkSource(given, { what: 'import path' });
    let format = values.format as DatasetFormat | undefined;
    if (format && !DATASET_FORMATS.includes(format)) {
      throw new Error(`unknown format '${format}'; expected one of ${DATASET_FORMATS.join(', ')}`);
    }
    if (!format) {
      const guessed = await detectFormat(source);
      if (!guessed) throw new Error(`cannot tell the format of ${source}; pass --format`);
      format = guessed;
      console.log(`format: ${format} (detected)`);
    }
    const mode = values.link ? 'link' : 'copy';
    let split: Split | undefined;
    if (values.split) {
      const r = Split.safeParse(values.split);
      if (!r.success) throw new Error(`unknown split '${values.split}'; expected train, val or test`);
      split = r.data;
    }
    const store = openProject(projectDir);
    try {
      if (format === 'images') {
        const r = await store.ingest([source], { mode });
        if (split && r.added.length) store.setSplit(r.added.map((im) => im.id), split);
        for (const s of r.skipped) console.log(`${s.path}: skipped: ${s.reason}`);
        console.log(`imported ${r.added.length} image(s), skipped ${r.skipped.length}`);
        return r.added.length > 0 || r.skipped.length === 0 ? 0 : 1;
      }
      const ds = await readDataset(format, source, { imagesDir: values['images-dir'], split });
      const errors = ds.issues.filter((i) => i.level === 'error');
      for (const i of ds.issues) console.log(`${i.level}: ${formatIssue(i)}`);
      if (errors.length) {
        console.error(`${errors.length} error(s) in ${source}; nothing was imported`);
        return 1;
      }
      console.log(`read ${ds.images.length} image(s), ${ds.annotations.length} annotation(s), ${ds.classes.length} class(es) from ${source}`);
      let last = 0;
      const r = await store.importDataset(ds, {
        mode,
        onProgress: (p) => {
          if (process.stderr.isTTY && Date.now() - last > 250) {
            last = Date.now();
            process.stderr.write(`\r${p.done}/${p.total} images`);
          }
        },
      });
      if (process.stderr.isTTY && last) process.stderr.write('\n');
      for (const w of r.warnings) console.log(`warning: ${w}`);
      console.log(`imported ${r.images} image(s), ${r.annotations} annotation(s), ${r.classes} new class(es) into ${store.dir}`);
      return 0;
    } finally {
      store.close();
    }
  },
};
