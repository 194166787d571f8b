// Messages between a trainer (rank 0) and its gradient helper (worker-grad.ts), validated on arrival like every
// other boundary of the studio. Weights, gradients and the optimizer's state do not travel in messages: they sit
// in SharedArrayBuffers laid out by flat-params.ts (parameters, then BatchNorm buffers). A step message carries the helper's share of the batch
// (samples are plain typed arrays) and, in fast mode, that share's cached ViT pass.
import { z } from 'zod';

const f32 = z.instanceof(Float32Array);
const shape = z.array(z.number().int().nonnegative());
const array = z.object({ shape, data: f32 });

const StTensorMsg = z.object({ dtype: z.string(), shape, data: z.instanceof(Uint8Array) });
const FlatEntryMsg = z.object({ name: z.string(), shape, offset: z.number().int().nonnegative(), size: z.number().int().nonnegative() });

const SampleMsg = z
  .object({
    imageId: z.number(),
    key: z.string(),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    image: f32,
    targets: z.object({
      boxes: f32,
      labels: z.instanceof(Int32Array),
      masks: z.array(z.instanceof(Uint8Array).nullable()),
      semantic: z.instanceof(Uint8Array).nullable(),
      imageClass: z.number().int(),
    }),
    transform: z.object({ origW: z.number(), origH: z.number(), scale: z.number(), padX: z.number(), padY: z.number(), flipped: z.boolean() }),
    warnings: z.array(z.string()),
  })
  .refine((s) => s.image.length === s.height * s.width * 3, { message: 'image size does not match height × width × 3' });

/** One share of the last step: whose gradient buffer (pool position), its weight, which parameters it has. */
const ShareMsg = z.object({ peer: z.number().int().nonnegative(), w: z.number(), present: z.array(z.boolean()) });
const FlatStepMsg = z.object({
  t: z.number().int().positive(),
  lr: z.number(),
  gradScale: z.number(),
  beta1: z.number(),
  beta2: z.number(),
  eps: z.number(),
  weightDecay: z.number(),
  emaDecay: z.number().nullable(),
});

export const ToHelper = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init'),
    backend: z.string(),
    mode: z.enum(['fast', 'full']),
    /** the resolved HST config and the task model spec, as the trainer built them */
    hstConfig: z.record(z.string(), z.unknown()),
    spec: z.object({ heads: z.record(z.string(), z.unknown()), seed: z.number().int() }).passthrough(),
    /** the whole model state (exportTensors), so frozen parts and buffers match too */
    tensors: z.array(z.tuple([z.string(), StTensorMsg])),
    /** the trainer's parameters, then the model's buffers (BatchNorm running statistics) */
    layout: z.object({ entries: z.array(FlatEntryMsg), size: z.number().int().nonnegative() }),
    /** how many leading layout entries are parameters */
    params: z.number().int().nonnegative(),
    weights: z.instanceof(SharedArrayBuffer),
    grads: z.instanceof(SharedArrayBuffer),
  }),
  z.object({
    type: z.literal('step'),
    id: z.number().int(),
    samples: z.array(SampleMsg).min(1),
    vit: z.object({ metaOut: z.array(array), patches: z.array(array) }).nullable(),
  }),
  /**
   * The optimizer's state in shared memory (optim/flat-update.ts) and every helper's gradient buffer (by pool
   * position): from now on the trainer may ask this helper for Σ g² and the update of a range of parameters.
   */
  z.object({
    type: z.literal('optim'),
    peers: z.array(z.instanceof(SharedArrayBuffer)),
    m: z.instanceof(SharedArrayBuffer),
    v: z.instanceof(SharedArrayBuffer),
    ema: z.instanceof(SharedArrayBuffer).nullable(),
    done: z.instanceof(SharedArrayBuffer),
    decay: z.array(z.boolean()),
  }),
  /** Per-parameter Σ g² of the last step's mean gradient over parameters [k0, k1). */
  z.object({ type: z.literal('squares'), id: z.number().int(), k0: z.number().int().nonnegative(), k1: z.number().int().nonnegative(), shares: z.array(ShareMsg).min(1) }),
  /** Applies the optimizer step to parameters [k0, k1) of the shared weights (AdamW, then the moving average). */
  z.object({ type: z.literal('update'), id: z.number().int(), k0: z.number().int().nonnegative(), k1: z.number().int().nonnegative(), shares: z.array(ShareMsg).min(1), step: FlatStepMsg }),
  z.object({ type: z.literal('close') }),
]);
export type ToHelper = z.infer<typeof ToHelper>;

export const FromHelper = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), backend: z.string(), threads: z.number().int() }),
  /**
   * `present[i]`: parameter i got a gradient (written to the helper's shared buffer); false: it had none this
   * step. The buffers' updated values follow the gradients in that buffer.
   */
  z.object({ type: z.literal('result'), id: z.number().int(), loss: z.number(), parts: z.record(z.string(), z.number()), present: z.array(z.boolean()) }),
  /** sums[k − k0]: Σ g² of parameter k's mean gradient (0 where no share has one) */
  z.object({ type: z.literal('squares'), id: z.number().int(), sums: z.instanceof(Float64Array) }),
  z.object({ type: z.literal('updated'), id: z.number().int() }),
  z.object({ type: z.literal('error'), id: z.number().int().nullable(), message: z.string() }),
]);
export type FromHelper = z.infer<typeof FromHelper>;
