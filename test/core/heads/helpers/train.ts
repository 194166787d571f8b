// Minimal training loop for head tests: variableGrads → AdamW, with tensors disposed every step.
import { tf } from '../../../../src-main/core/compute/engine';
import type { NamedParam } from '../../../../src-main/core/heads/layers/params';
import { AdamW } from '../../../../src-main/core/training/optim/adamw';

export interface Trainer {
  step(lossFn: () => tf.Scalar): number;
  opt: AdamW;
}

export function makeTrainer(params: NamedParam[], lr: number, weightDecay = 0): Trainer {
  const trainable = params.filter((p) => !p.buffer);
  const opt = new AdamW(
    trainable.map((p) => ({ name: p.name, variable: p.variable })),
    { lr, weightDecay },
  );
  const vars = trainable.map((p) => p.variable);
  return {
    opt,
    step(lossFn) {
      const { value, grads } = tf.variableGrads(lossFn, vars);
      opt.applyGradients(grads);
      const v = value.dataSync()[0];
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
      return v;
    },
  };
}

/** Random stage features [B,H/s,W/s,C] for s = 4,8,16,32 (fixed seed). */
export function randomStages(batch: number, size: number, channels: readonly number[], seed = 1): tf.Tensor4D[] {
  return [4, 8, 16, 32].map((s, i) => tf.randomNormal([batch, Math.ceil(size / s), Math.ceil(size / s), channels[i]], 0, 1, 'float32', seed + i) as tf.Tensor4D);
}
