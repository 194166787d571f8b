// The gradient helper thread (built to dist/main/core/training/worker-grad.js): a second single-threaded tfjs
// that computes the loss and gradients of its share of each batch while the other helpers compute theirs
// (parallel/grad-pool.ts). It keeps no training state: before every step it takes the trainer's current weights
// and BatchNorm statistics from shared memory, so pause, resume, checkpoints and the optimizer stay the
// trainer's alone.
import { parentPort } from 'node:worker_threads';
import { initCompute, tf } from '../compute/engine';
import type { StTensor } from '../io/safetensors';
import { lossAndGrads, optimParamsFor } from '../incremental/fast-step';
import type { Sample } from './data/types';
import { assignVariables, checkLayout, readValues, type FlatLayout } from './parallel/flat-params';
import { FromHelper, ToHelper } from './parallel/grad-protocol';
import type { TaskModel, HeadSettings } from './task-model';
import { taskModelFromState } from './model-spec';

if (!parentPort) throw new Error('worker-grad must run as a worker thread');
const port = parentPort;

interface State {
  model: TaskModel;
  /** the trainer's parameters, then the buffers: the layout's order */
  vars: tf.Variable[];
  params: number;
  layout: FlatLayout;
  weights: Float32Array;
  grads: Float32Array;
}
let state: State | null = null;

function post(msg: FromHelper): void {
  port.postMessage(msg);
}

async function init(m: Extract<ToHelper, { type: 'init' }>): Promise<void> {
  // one thread: the other helpers compute their shares on the other cores
  const info = await initCompute({ backend: m.backend, threads: 1 });
  const spec = { hst: m.hstConfig, heads: m.spec.heads as unknown as HeadSettings, seed: m.spec.seed };
  const model = taskModelFromState(spec, new Map(m.tensors as [string, StTensor][]), "the trainer's model");
  const params = optimParamsFor(model, m.mode);
  const all = [...params, ...model.buffers()];
  if (params.length !== m.params) throw new Error(`gradient helper: the trainer optimises ${m.params} parameters, the helper's model ${params.length}`);
  checkLayout(m.layout, all);
  state = { model, vars: all.map((p) => p.variable), params: m.params, layout: m.layout, weights: new Float32Array(m.weights), grads: new Float32Array(m.grads) };
  post({ type: 'ready', backend: info.backend, threads: info.threads });
}

async function step(m: Extract<ToHelper, { type: 'step' }>): Promise<void> {
  if (!state) throw new Error('gradient helper: step before init');
  const { model, vars, params, layout, weights, grads } = state;
  // the step's weights and BatchNorm statistics, as the trainer has them now
  assignVariables(layout, vars, weights);
  const vit = m.vit
    ? { metaOut: m.vit.metaOut.map((a) => tf.tensor3d(a.data, a.shape as [number, number, number])), patches: m.vit.patches.map((a) => tf.tensor4d(a.data, a.shape as [number, number, number, number])) }
    : null;
  const r = await lossAndGrads(model, m.samples as Sample[], vit, vars.slice(0, params));
  // gradients are keyed by tf variable name, the layout by parameter name: same order
  const present = layout.entries.slice(0, params).map((e, i) => {
    const g = r.grads[vars[i].name];
    if (!g) return false;
    grads.set(readValues(g), e.offset);
    return true;
  });
  tf.dispose(Object.values(r.grads));
  // the running statistics after this share's forward, for the trainer to average
  for (let i = params; i < vars.length; i++) grads.set(readValues(vars[i]), layout.entries[i].offset);
  post({ type: 'result', id: m.id, loss: r.loss, parts: r.parts, present });
}

// one message at a time: the trainer sends the next step only after this one's result
let queue = Promise.resolve();
port.on('message', (raw: unknown) => {
  queue = queue.then(async () => {
    const parsed = ToHelper.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      post({ type: 'error', id: typeof id === 'number' ? id : null, message: `gradient helper: bad message: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` });
      return;
    }
    const m = parsed.data;
    try {
      if (m.type === 'close') {
        state?.model.dispose();
        state = null;
        port.close();
      } else if (m.type === 'init') await init(m);
      else await step(m);
    } catch (err) {
      post({ type: 'error', id: m.type === 'step' ? m.id : null, message: err instanceof Error ? err.message : String(err) });
    }
  });
});
