// `hst-studio import PROJECT [--format coco|yolo|voc|labelme|images] PATH [--copy|--link] [--strict] [--replace] [--report FILE.json]`
// Reads the dataset into the neutral form first (nothing touches the project), then hands it to the store, which
// writes it in one transaction. Problems are grouped and capped on stderr ("…and 340 more like this"), each
// printed once; the full list goes to --report. Only the result line goes to stdout.
import { writeFile } from 'node:fs/promises';
import { openProject } from '../../core/store/project';
import { DatasetImportError } from '../../core/store/dataset-import';
import { detectFormat } from '../../core/datasets/detect-format';
import { countIssues, summarizeIssues } from '../../core/datasets/issue-summary';
import { DATASET_FORMATS, readDataset } from '../../core/datasets/read-dataset';
import type { DatasetFormat, DatasetIssue } from '../../core/datasets/types';
import { Split } from '../../contract/schemas';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio import PROJECT [--format ${DATASET_FORMATS.join('|')}] PATH [--copy|--link] [--images-dir DIR]
                          [--split S] [--strict] [--replace] [--report FILE.json]

  --format      dataset format (detected from PATH when left out)
  --copy        copy images into the project's media/ folder (default)
  --link        reference the images where they are
  --split       split for images the dataset does not place in one (COCO: read from the
                file name, e.g. instances_val2017.json → val; otherwise train)
  --images-dir  COCO only: the folder that file_names are relative to
  --strict      an image that cannot be decoded fails the whole import (default: it is
                skipped with its annotations, and counted)
  --replace     images already in the project take the imported annotations and split
                (default: they keep theirs and only gain annotations they lack)
  --report      write every issue, and the counts, to this JSON file`;

export const importCommand: Command = {
  summary: 'import a COCO, YOLO, Pascal VOC, LabelMe dataset or a folder of images into a project',
  async run(argv) {
    const { values, positionals } = parse(argv, {
      format: { type: 'string' },
      copy: { type: 'boolean' },
      link: { type: 'boolean' },
      'images-dir': { type: 'string' },
      split: { type: 'string' },
      strict: { type: 'boolean' },
      replace: { type: 'boolean' },
      report: { type: 'string' },
      help: { type: 'boolean' },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new Error(`expected PROJECT and PATH.\n${USAGE}`);
    if (values.copy && values.link) throw new Error('choose one of --copy and --link');
    const [projectDir, source] = positionals;
    let format = values.format as DatasetFormat | undefined;
    if (format && !DATASET_FORMATS.includes(format)) {
      throw new Error(`unknown format '${format}'; expected one of ${DATASET_FORMATS.join(', ')}`);
    }
    const mode = values.link ? 'link' : 'copy';
    let split: Split | undefined;
    if (values.split) {
      const r = Split.safeParse(values.split);
      if (!r.success) throw new Error(`unknown split '${values.split}'; expected train, val or test`);
      split = r.data;
    }
    const report = async (body: Record<string, unknown>, issues: DatasetIssue[]) => {
      if (!values.report) return;
      await writeFile(values.report, JSON.stringify({ source, format, ...body, issues }, null, 2));
      console.error(`the full list (${countIssues(issues)}) is in ${values.report}`);
    };
    const printIssues = (issues: DatasetIssue[]) => {
      for (const line of summarizeIssues(issues)) console.error(line);
    };

    if (!format) {
      format = await detectFormat(source); // throws, naming what it saw, when it cannot decide
      console.error(`format: ${format} (detected)`);
    }
    const store = openProject(projectDir);
    try {
      if (format === 'images') {
        const r = await store.ingest([source], { mode });
        if (split && r.added.length) store.setSplit(r.added.map((im) => im.id), split);
        const issues: DatasetIssue[] = r.skipped.map((s) => ({ level: 'warning', file: s.path, message: `skipped: ${s.reason}` }));
        printIssues(issues);
        const allKnown = r.added.length === 0 && r.skipped.length > 0 && r.skipped.every((s) => s.reason.startsWith('duplicate of image'));
        await report({ ok: r.added.length > 0 || allKnown, images: r.added.length, skippedImages: r.skipped.length, unchanged: allKnown }, issues);
        if (allKnown) {
          console.log(`nothing changed: all ${r.skipped.length} image(s) are already in ${store.dir}`);
          return 0;
        }
        if (r.added.length === 0) {
          console.error(`no image was imported from ${source}${r.skipped.length ? ` (${r.skipped.length} skipped)` : ''}`);
          return 1;
        }
        console.log(`imported ${r.added.length} image(s), skipped ${r.skipped.length}`);
        return 0;
      }
      const ds = await readDataset(format, source, { imagesDir: values['images-dir'], split });
      const errors = ds.issues.filter((i) => i.level === 'error');
      if (errors.length) {
        printIssues(ds.issues);
        await report({ ok: false }, ds.issues);
        console.error(`${errors.length} error(s) in ${source}; nothing was imported`);
        return 1;
      }
      console.error(`read ${ds.images.length} image(s), ${ds.annotations.length} annotation(s), ${ds.classes.length} class(es) from ${source}`);
      let last = 0;
      let r;
      try {
        r = await store.importDataset(ds, {
          mode,
          strict: values.strict,
          replace: values.replace,
          onProgress: (p) => {
            if (process.stderr.isTTY && Date.now() - last > 250) {
              last = Date.now();
              process.stderr.write(`\r${p.done}/${p.total} images`);
            }
          },
        });
      } catch (err) {
        if (process.stderr.isTTY && last) process.stderr.write('\n');
        if (!(err instanceof DatasetImportError)) throw err;
        printIssues(err.issues);
        await report({ ok: false }, err.issues);
        const n = err.issues.filter((i) => i.level === 'error').length;
        console.error(`${n} error(s) in ${source}; nothing was imported`);
        return 1;
      }
      if (process.stderr.isTTY && last) process.stderr.write('\n');
      const issues = r.issues ?? [];
      printIssues(issues);
      await report({ ok: true, images: r.images, annotations: r.annotations, classes: r.classes, skippedImages: r.skippedImages ?? 0, unchanged: !!r.unchanged }, issues);
      if (r.unchanged) {
        console.log(`nothing changed: ${source} is already imported into ${store.dir} (use --replace to replace its images' annotations)`);
        return 0;
      }
      const skipped = r.skippedImages ? `, skipped ${r.skippedImages} image(s)` : '';
      console.log(`imported ${r.images} image(s), ${r.annotations} annotation(s), ${r.classes} new class(es) into ${store.dir}${skipped}`);
      return 0;
    } finally {
      store.close();
    }
  },
};
