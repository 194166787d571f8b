// `hst-studio export-model PROJECT [--version V] --format tfjs|onnx|safetensors|adapter OUT`
import { initCompute } from '../../core/compute/engine';
import { EXPORT_FORMATS, exportModel, loadVersionForExport, type ExportFormat } from '../../core/export/index';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio export-model PROJECT [--version V] --format ${EXPORT_FORMATS.join('|')} OUT

  --format   tfjs         folder: model.json + weight shards, metadata.json, inference.mjs, README.md
             onnx         folder: model.onnx (raw outputs), metadata.json, README.md (post-processing)
             safetensors  OUT.safetensors + OUT.json: PyTorch names and layouts, for training further in PyTorch
             adapter      one small file: trained parameters + backbone name and sha256
  --version  model version id (default: the active version, else the newest)
  Ctrl-C cancels; nothing is left at OUT unless the export completed.`;

export const exportModelCommand: Command = {
  summary: 'export a trained model as tfjs, ONNX, a safetensors checkpoint or an adapter',
  async run(argv) {
    const { values, positionals } = parse(argv, { format: { type: 'string' }, version: { type: 'string' }, help: { type: 'boolean' } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length !== 2) throw new Error(`expected PROJECT and OUT.\n${USAGE}`);
    const format = values.format as ExportFormat | undefined;
    if (!format || !EXPORT_FORMATS.includes(format)) throw new Error(`--format must be one of ${EXPORT_FORMATS.join(', ')}${format ? ` (got '${format}')` : ''}`);
    let version: number | undefined;
    if (values.version !== undefined) {
      version = Number(values.version);
      if (!Number.isInteger(version) || version <= 0) throw new Error(`--version must be a model version id (a positive integer), got '${values.version}'`);
    }
    const [projectDir, out] = positionals;
    await initCompute();
    const src = await loadVersionForExport(projectDir, version);
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const r = await exportModel(src, format, out, { signal: ac.signal });
      console.log(`exported model version ${src.version?.id} (${src.version?.name}) as ${format} to ${r.path} (${(r.bytes / 1e6).toFixed(2)} MB)`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      src.model.dispose();
    }
  },
};
