// The gradient helper thread (built to dist/main/core/training/worker-grad.js): a second single-threaded tfjs
// that computes the loss and gradients of its share of each batch while the other helpers compute theirs
// (parallel/grad-pool.ts). It keeps no training state: before every step it takes the trainer's current weights
// and BatchNorm statistics from shared memory, so pause, resume and checkpoints stay the trainer's alone. Asked
// by the trainer, it also runs the optimizer's step for a range of parameters on the trainer's shared state
// (optim/flat-update.ts), so that serial part of a step is split between the helpers too.
import { parentPort } from 'node:worker_threads';
import { initCompute, tf } from '../compute/engine';
import type { StTensor } from '../io/safetensors';
import { lossAndGrads, optimParamsFor } from './fast-step';
import type { Sample } from '../data/types';
import { updateParams, type FlatOptimState } from './optim/flat-update';
import { assignVariables, checkLayout, readValues, type FlatLayout } from './parallel/flat-params';
import { meanOf, squaresOfMean, type SharePart } from './parallel/flat-math';
import { FromHelper, ToHelper } from './parallel/grad-protocol';
import type { TaskModel, HeadSettings } from '../task-model/task-model';
import { taskModelFromState } from '../task-model/model-spec';

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
  /** after an 'optim' message: every helper's gradient buffer (pool position) and the optimizer's state */
  optim: { peers: Float32Array[]; state: FlatOptimState; scratch: Float32Array } | null;
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
  state = { model, vars: all.map((p) => p.variable), params: m.params, layout: m.layout, weights: new Float32Array(m.weights), grads: new Float32Array(m.grads), optim: null };
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

function optim(m: Extract<ToHelper, { type: 'optim' }>): void {
  if (!state) throw new Error('gradient helper: optimizer state before init');
  const entries = state.layout.entries.slice(0, state.params);
  const floats = state.layout.size;
  const views = { m: new Float32Array(m.m), v: new Float32Array(m.v), ema: m.ema ? new Float32Array(m.ema) : null, done: new Int32Array(m.done) };
  const paramFloats = entries.length ? entries[entries.length - 1].offset + entries[entries.length - 1].size : 0;
  if (m.decay.length !== entries.length || views.done.length < entries.length) throw new Error(`gradient helper: optimizer state for ${m.decay.length} parameters, the layout has ${entries.length}`);
  for (const a of [views.m, views.v, ...(views.ema ? [views.ema] : [])]) if (a.length < paramFloats) throw new Error(`gradient helper: optimizer state of ${a.length} floats, the parameters have ${paramFloats}`);
  const peers = m.peers.map((b) => new Float32Array(b));
  if (peers.some((p) => p.length < floats)) throw new Error('gradient helper: a peer gradient buffer is smaller than the layout');
  state.optim = { peers, state: { entries, decay: m.decay, ...views }, scratch: new Float32Array(Math.max(1, ...entries.map((e) => e.size))) };
}

/** A range's parameter-by-parameter view of the last step's shares (their gradient buffers, in share order). */
function shareParts(m: { k0: number; k1: number; shares: { peer: number; w: number; present: boolean[] }[] }) {
  const o = state?.optim;
  if (!state || !o) throw new Error('gradient helper: no optimizer state');
  const { entries } = o.state;
  if (m.k1 > entries.length || m.k0 > m.k1) throw new Error(`gradient helper: parameter range [${m.k0}, ${m.k1}) outside 0…${entries.length}`);
  for (const s of m.shares) if (s.peer >= o.peers.length || s.present.length !== entries.length) throw new Error('gradient helper: a share names an unknown helper or the wrong parameter count');
  return (k: number): SharePart[] => {
    const { offset, size } = entries[k];
    return m.shares.map((s) => ({ w: s.w, x: s.present[k] ? o.peers[s.peer].subarray(offset, offset + size) : null }));
  };
}

function squares(m: Extract<ToHelper, { type: 'squares' }>): Float64Array<ArrayBuffer> {
  const parts = shareParts(m);
  const { entries } = state!.optim!.state;
  const scratch = state!.optim!.scratch;
  const sums = new Float64Array(m.k1 - m.k0);
  for (let k = m.k0; k < m.k1; k++) {
    const p = parts(k);
    if (p.some((x) => x.x)) sums[k - m.k0] = squaresOfMean(p, scratch.subarray(0, entries[k].size));
  }
  return sums;
}

function update(m: Extract<ToHelper, { type: 'update' }>): void {
  const parts = shareParts(m);
  const o = state!.optim!;
  const grad = (k: number, scratch: Float32Array) => {
    const p = parts(k);
    if (!p.some((x) => x.x)) return null;
    const out = scratch.subarray(0, o.state.entries[k].size);
    meanOf(p, out);
    return out;
  };
  updateParams(o.state, state!.weights, grad, m.k0, m.k1, m.step, o.scratch);
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
      else if (m.type === 'optim') optim(m);
      else if (m.type === 'squares') post({ type: 'squares', id: m.id, sums: squares(m) });
      else if (m.type === 'update') {
        update(m);
        post({ type: 'updated', id: m.id });
      } else await step(m);
    } catch (err) {
      post({ type: 'error', id: 'id' in m ? m.id : null, message: err instanceof Error ? err.message : String(err) });
    }
  });
});
