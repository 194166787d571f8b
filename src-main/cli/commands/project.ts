import { resolve } from 'node:path';
import { createDemoProject } from '../../core/store/create-demo';
import { createProject, openProject } from '../../core/store/project';
import { schemaVersion } from '../../core/store/migrate';
import { parse, type Command } from './command';

const USAGE = `Usage:
  hst-studio project create DIR [--name NAME] [--demo]
  hst-studio project info DIR [--json]

create   makes a new project folder (project.sqlite, media/, models/, cache/)
         --name NAME   display name (default: the folder name)
         --demo        fill it with the synthetic shapes demo (images with masks, ready to train)
info     prints the project's name, schema, revision, images, classes and models`;

async function create(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { name: { type: 'string' }, demo: { type: 'boolean' }, help: { type: 'boolean' } });
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new Error('project create needs exactly one folder: hst-studio project create DIR [--name NAME] [--demo]');
  const dir = resolve(positionals[0]);
  let last = -1;
  const store = values.demo
    ? await createDemoProject(dir, {
        name: values.name,
        onProgress: (p) => {
          const pct = Math.floor((100 * p.done) / Math.max(1, p.total));
          if (process.stderr.isTTY && pct !== last) process.stderr.write(`\rimporting demo images… ${(last = pct)}%`);
        },
      })
    : createProject(dir, { name: values.name });
  if (process.stderr.isTTY && last >= 0) process.stderr.write('\n');
  try {
    const counts = store.imageCounts();
    console.log(`created project '${store.name}' in ${dir}` + (values.demo ? ` with ${counts.all} demo images and ${store.listClasses().length} classes` : ''));
  } finally {
    store.close();
  }
  return 0;
}

async function info(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean' } });
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new Error('project info needs exactly one folder: hst-studio project info DIR');
  const store = openProject(positionals[0]);
  try {
    const counts = store.imageCounts();
    const perClass = store.classCounts();
    const classes = store.listClasses().map((c) => ({ id: c.id, name: c.name, color: c.color, annotations: perClass[c.id] ?? 0 }));
    const splits = Object.fromEntries((['train', 'val', 'test'] as const).map((s) => [s, store.listImages({ split: s, limit: 1 }).total]));
    const models = store.listModelVersions().map((m) => ({ id: m.id, name: m.name, task: m.task, datasetRevision: m.datasetRevision, active: m.active }));
    const report = {
      dir: store.dir, name: store.name, schema: schemaVersion(store.db), revision: store.revision(), images: counts, splits,
      annotations: Object.values(perClass).reduce((a, b) => a + b, 0), classes, models,
      quarantined: store.quarantined().length,
    };
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(`project:     ${report.name} (${report.dir})`);
      console.log(`schema:      ${report.schema}   revision: ${report.revision}`);
      console.log(`images:      ${counts.all} (${counts.unlabeled} unlabeled, ${counts.labeled} labeled, ${counts.reviewed} reviewed)  ` +
        `train ${splits.train} / val ${splits.val} / test ${splits.test}`);
      console.log(`annotations: ${report.annotations}${report.quarantined ? ` (+ ${report.quarantined} with unreadable geometry in the quarantine table)` : ''}`);
      if (store.notice) console.log(`upgraded:    ${store.notice}`);
      console.log(`classes:     ${classes.length ? classes.map((c) => `${c.name} (${c.annotations})`).join(', ') : 'none'}`);
      console.log(`models:      ${models.length ? models.map((m) => `${m.name}${m.active ? ' [active]' : ''} @rev ${m.datasetRevision}`).join(', ') : 'none'}`);
    }
  } finally {
    store.close();
  }
  return 0;
}

export const project: Command = {
  summary: 'create a project folder (optionally with demo data) or show what is in one',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'create') return create(rest);
    if (sub === 'info') return info(rest);
    if (sub === undefined || sub === '--help' || sub === '-h') return (console.log(USAGE), sub === undefined ? 2 : 0);
    throw new Error(`unknown subcommand '${sub}' (use create or info); see hst-studio project --help`);
  },
};
