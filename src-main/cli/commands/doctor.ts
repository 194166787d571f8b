import { initCompute } from '../../core/compute/engine';
import { parse, type Command } from './command';

export const doctor: Command = {
  summary: 'show the compute backend, threads, kernels and environment',
  async run(argv) {
    const { values } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean' } }, false);
    if (values.help) {
      console.log('Usage: hst-studio doctor [--json]');
      return 0;
    }
    const info = await initCompute();
    if (values.json) console.log(JSON.stringify(info, null, 2));
    else {
      console.log(`backend: ${info.backend} (${info.threads} thread${info.threads === 1 ? '' : 's'})`);
      console.log(`tfjs: ${info.tfjsVersion}`);
      for (const n of info.notes) console.log(`note: ${n}`);
    }
    return 0;
  },
};
