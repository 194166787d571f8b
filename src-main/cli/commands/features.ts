// `hst-studio features`: run an HST checkpoint in eval mode on an input tensor and write every intermediate the
// authors' fixture has, in the same layouts, so users can compare against PyTorch.
import { initCompute, tf } from '../../core/compute/engine';
import { f32Tensor, readSafetensors, toFloat32, writeSafetensors, type StTensor } from '../../core/io/safetensors';
import { HstModel } from '../../core/model/hst';
import { loadState, readConfigFile } from '../../core/model/weights';
import { parse, type Command } from './command';

const USAGE = `Usage: hst-studio features --config C.json --weights W.safetensors --input T.safetensors [--input-key input] --out O.safetensors [--backend B]

Runs the HST model in eval mode and writes, in the reference fixture's layouts:
  vit_block{i}  [B, 2+N, D]   ViT block i output [MetaT, CLS, patches]
  stem          [B, H·W, C1]  stem output after its LayerNorm
  stage1..4     [B, H·W, C]   stage outputs, row-major tokens
  logits        [B, K]        (when the config has num_classes > 0)
The input tensor is an NCHW float image batch (already normalised), as PyTorch takes it.
C.json may be the authors' form {"config": {img_size, patch_size, embed_dim, ...}} or the bare config.`;

export const features: Command = {
  summary: 'run an HST checkpoint on an input tensor and write every intermediate (PyTorch interop check)',
  async run(argv) {
    const { values } = parse(argv, {
      config: { type: 'string' }, weights: { type: 'string' }, input: { type: 'string' },
      'input-key': { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' }, help: { type: 'boolean' },
    }, false);
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    for (const k of ['config', 'weights', 'input', 'out'] as const) {
      if (!values[k]) throw new Error(`--${k} is required (see --help)`);
    }
    const info = await initCompute(values.backend ? { backend: values.backend } : {});
    const config = await readConfigFile(values.config!);
    const weights = await readSafetensors(values.weights!);
    const inputFile = await readSafetensors(values.input!);
    const key = values['input-key'] ?? 'input';
    const input = inputFile.tensors.get(key);
    if (!input) throw new Error(`${values.input}: no tensor '${key}' (has: ${[...inputFile.tensors.keys()].slice(0, 10).join(', ')}); pick one with --input-key`);
    if (input.shape.length !== 4 || input.shape[1] !== 3) {
      throw new Error(`${values.input}: tensor '${key}' has shape [${input.shape.join(', ')}], expected an NCHW image batch [B, 3, H, W]`);
    }
    const [, , h, w] = input.shape;
    if (h % config.patch_size !== 0 || w % config.patch_size !== 0) {
      throw new Error(`${values.input}: image ${h}×${w} is not a multiple of the patch size ${config.patch_size}`);
    }
    const model = new HstModel(config, { backbone: 'pending' });
    try {
      loadState(model, weights.tensors, { source: values.weights });
      model.backboneSource = { kind: 'checkpoint', file: values.weights! };
      const out = new Map<string, StTensor>();
      const put = (name: string, t: tf.Tensor) => out.set(name, f32Tensor(t.dataSync() as Float32Array, t.shape));
      tf.tidy(() => {
        const x = tf.transpose(tf.tensor4d(toFloat32(input, key), input.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;
        const r = model.forward(x, { training: false, keepTokens: true });
        r.vit.tokens!.forEach((t, i) => put(`vit_block${i}`, t));
        put('stem', r.stem);
        r.stages.forEach((s, i) => {
          const [b, sh, sw, c] = s.shape;
          put(`stage${i + 1}`, tf.reshape(s, [b, sh * sw, c]));
        });
        if (r.logits) put('logits', r.logits);
      });
      await writeSafetensors(values.out!, out, {
        layout: 'vit_blockI [B, 2+N, D] = [MetaT_I, CLS, patches]; stem [B, H*W, C1]; stageS [B, H*W, C] row-major; logits [B, K]',
        backend: info.backend,
      });
      console.log(`wrote ${out.size} tensors to ${values.out} (backend ${info.backend})`);
    } finally {
      model.dispose();
    }
    return 0;
  },
};
