// `hst-studio backbone list|import|download|remove`: manage pretrained ViT backbones in <dataDir>/backbones.
import { CATALOGUE } from '../../core/backbones/catalogue';
import { BackboneManager } from '../../core/backbones/manager';
import { dataDir } from '../../core/compute/environment';
import { parse, type Command } from './command';

const USAGE = `Usage:
  hst-studio backbone list [--catalogue] [--json]        installed backbones (or the known catalogue)
  hst-studio backbone download ID [--url URL]            download from the Hugging Face hub (resumes, checks sha256)
  hst-studio backbone import FILE [--id ID] [--heads N]  install a local timm / transformers ViT .safetensors
  hst-studio backbone remove ID
Options: --data-dir DIR (default: $HST_DATA_DIR or the user data folder)`;

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export const backbone: Command = {
  summary: 'list, download, import or remove pretrained ViT backbones',
  async run(argv) {
    const { values, positionals } = parse(argv, {
      catalogue: { type: 'boolean' }, json: { type: 'boolean' }, url: { type: 'string' }, id: { type: 'string' },
      heads: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean' },
    });
    const [sub, arg] = positionals;
    if (values.help || !sub) {
      console.log(USAGE);
      return values.help ? 0 : 2;
    }
    const mgr = new BackboneManager(values['data-dir'] ?? dataDir());
    const heads = values.heads ? Number(values.heads) : undefined;
    if (heads !== undefined && !(Number.isInteger(heads) && heads > 0)) throw new Error(`--heads must be a positive integer, got '${values.heads}'`);
    switch (sub) {
      case 'list': {
        if (values.catalogue) {
          if (values.json) console.log(JSON.stringify(CATALOGUE, null, 2));
          else for (const e of CATALOGUE) console.log(`${e.id.padEnd(28)} ${e.title} — ~${mb(e.approxBytes)}, ${e.licence}\n${''.padEnd(29)}${e.url}`);
          return 0;
        }
        const list = await mgr.list();
        if (values.json) console.log(JSON.stringify(list, null, 2));
        else if (!list.length) console.log(`no backbones installed in ${mgr.dir}; see 'hst-studio backbone list --catalogue', then download or import one`);
        else for (const m of list) console.log(`${m.id.padEnd(28)} ${m.title} — ${mb(m.bytes)}, D=${m.shape.embed_dim} depth ${m.shape.depth} patch ${m.shape.patch_size}, ${m.licence}, sha256 ${m.sha256.slice(0, 12)}…`);
        return 0;
      }
      case 'download': {
        if (!arg) throw new Error('backbone download needs an ID (see `hst-studio backbone list --catalogue`)');
        const known = CATALOGUE.find((e) => e.id === arg);
        if (!known) throw new Error(`'${arg}' is not in the catalogue (see \`hst-studio backbone list --catalogue\`); for other files use \`backbone import\``);
        let last = 0;
        const m = await mgr.download(values.url ? { ...known, url: values.url } : known, {
          numHeads: heads,
          onProgress: (p) => {
            const now = Date.now();
            if (now - last < 500 && p.received !== p.total) return;
            last = now;
            const pct = p.total ? ` (${((100 * p.received) / p.total).toFixed(1)}%)` : '';
            process.stderr.write(`\r${p.id}: ${mb(p.received)}${p.total ? ` of ${mb(p.total)}` : ''}${pct}${p.resumedFrom ? `, resumed at ${mb(p.resumedFrom)}` : ''}   `);
          },
        });
        process.stderr.write('\n');
        console.log(`installed ${m.id} (${mb(m.bytes)}, sha256 ${m.sha256})`);
        return 0;
      }
      case 'import': {
        if (!arg) throw new Error('backbone import needs a FILE');
        const m = await mgr.import(arg, { id: values.id, numHeads: heads });
        console.log(`installed ${m.id} from ${arg}: D=${m.shape.embed_dim}, depth ${m.shape.depth}, patch ${m.shape.patch_size}, native ${m.shape.img_size}px, ${m.shape.num_heads} heads${heads ? '' : ' (assumed D/64; pass --heads if different)'}`);
        return 0;
      }
      case 'remove': {
        if (!arg) throw new Error('backbone remove needs an ID');
        if (!(await mgr.remove(arg))) throw new Error(`no backbone '${arg}' installed in ${mgr.dir}`);
        console.log(`removed ${arg}`);
        return 0;
      }
      default:
        throw new Error(`unknown subcommand '${sub}'. ${USAGE}`);
    }
  },
};
