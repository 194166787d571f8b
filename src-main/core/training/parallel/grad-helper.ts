// One gradient helper thread (worker-grad.ts) seen from the trainer: start it with a copy of the model, ask it
// for the loss and gradients of a share of a batch, close it. A helper that fails, sends garbage or dies is
// marked dead with the reason; its pending request is rejected and it is never asked again.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tf } from '../../compute/engine';
import { configToJson } from '../../model/weights';
import type { StTensor } from '../../io/safetensors';
import type { Sample } from '../../data/types';
import type { VitArrays } from '../../features/types';
import type { TaskModel } from '../../task-model/task-model';
import { findWorkerFile } from '../../find-worker';
import { sharedFloats, type FlatLayout } from './flat-params';
import { FromHelper, type ToHelper } from './grad-protocol';

export type HelperResult = Extract<FromHelper, { type: 'result' }>;
type Reply = Extract<FromHelper, { type: 'result' | 'squares' | 'updated' }>;
type Request = Extract<ToHelper, { type: 'step' | 'squares' | 'update' }>;
/** a request's message without its id (the helper numbers them) */
type Ask<R extends Request> = R extends unknown ? Omit<R, 'id'> : never;
export type { VitArrays };

export interface HelperStart {
  model: TaskModel;
  /** the heads and seed the model was built with */
  spec: { heads: unknown; seed: number };
  mode: 'fast' | 'full';
  /** the model's whole state (exportTensors), so frozen parts and buffers match the trainer's */
  tensors: [string, StTensor][];
  /** parameters, then buffers */
  layout: FlatLayout;
  /** how many leading layout entries are parameters */
  params: number;
  /** the shared weights every helper of a pool reads */
  weights: Float32Array;
  /** default: the built dist/main/core/training/worker-grad.js */
  workerFile?: string;
  /** how long starting (its own backend, the model copy) may take; default 60 s */
  startTimeoutMs?: number;
}

type Pending = { resolve: (m: Reply) => void; reject: (e: Error) => void };

export class GradHelper {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private deadReason: string | null = null;
  private closed = false;
  /** settles when the thread has stopped (after fail or close): nothing it runs touches shared memory after that */
  readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    /** where this helper writes its gradients and updated buffers (the pool's layout) */
    readonly grads: Float32Array,
    readonly info: { backend: string; threads: number },
  ) {
    worker.on('message', (raw: unknown) => {
      const p = FromHelper.safeParse(raw);
      if (!p.success) return this.fail(`sent a malformed message (${p.error.issues[0]?.message})`);
      const m = p.data;
      if (m.type === 'result' || m.type === 'squares' || m.type === 'updated') this.settle(m.id, (w) => w.resolve(m));
      else if (m.type === 'error') {
        if (m.id !== null) this.settle(m.id, (w) => w.reject(new Error(m.message)));
        else this.fail(m.message);
      }
    });
    worker.on('error', (err) => this.fail(`crashed: ${err.message}`));
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('exit', (code) => this.fail(`exited (code ${code})`));
  }

  /** Starts a helper with a copy of the model; rejects with the reason if it cannot. */
  static async start(o: HelperStart): Promise<GradHelper> {
    const grads = sharedFloats(o.layout);
    const file = o.workerFile ?? findWorkerFile('core/training/worker-grad.js', dirname(fileURLToPath(import.meta.url)));
    const worker = new Worker(file);
    // Remove only our own listeners afterwards: Worker keeps its message port referenced through listeners of
    // its own, and removeAllListeners() would silently stop every later message.
    const off: (() => void)[] = [];
    try {
      const ready = await new Promise<Extract<FromHelper, { type: 'ready' }>>((resolve, reject) => {
        const ms = o.startTimeoutMs ?? 60_000;
        const timer = setTimeout(() => reject(new Error(`did not start within ${ms / 1000} s`)), ms);
        const onError = (e: Error) => reject(new Error(`crashed while starting: ${e.message}`));
        const onExit = (c: number) => reject(new Error(`exited while starting (code ${c})`));
        const onMsg = (raw: unknown) => {
          const p = FromHelper.safeParse(raw);
          if (!p.success) return reject(new Error('answered the start with a malformed message'));
          if (p.data.type === 'ready') resolve(p.data);
          else reject(new Error(p.data.type === 'error' ? p.data.message : 'answered before it was ready'));
        };
        worker.on('error', onError).on('exit', onExit).on('message', onMsg);
        off.push(() => clearTimeout(timer), () => worker.off('error', onError).off('exit', onExit).off('message', onMsg));
        worker.postMessage({
          type: 'init',
          backend: tf.getBackend(),
          mode: o.mode,
          hstConfig: configToJson(o.model.hst.config),
          spec: { heads: o.spec.heads, seed: o.spec.seed },
          tensors: o.tensors,
          layout: o.layout,
          params: o.params,
          weights: o.weights.buffer,
          grads: grads.buffer,
        });
      });
      off.forEach((f) => f());
      // an idle helper must not keep a finished process alive: it is referenced only while a request waits
      worker.unref();
      return new GradHelper(worker, grads, { backend: ready.backend, threads: ready.threads });
    } catch (err) {
      off.forEach((f) => f());
      void worker.terminate();
      throw new Error(`a gradient helper thread ${(err as Error).message}`);
    }
  }

  get alive(): boolean {
    return this.deadReason === null && !this.closed;
  }

  /** why it stopped, or null */
  get dead(): string | null {
    return this.deadReason;
  }

  /**
   * Loss and gradients of `samples` with the weights now in the shared buffer (gradients land in `grads`). The
   * ViT arrays are moved to the helper, not copied: they are unusable here afterwards.
   */
  compute(samples: readonly Sample[], vit: VitArrays | null): Promise<HelperResult> {
    const transfer = vit ? [...vit.metaOut, ...vit.patches].map((a) => a.data.buffer as ArrayBuffer) : [];
    // Sample's arrays are typed over ArrayBufferLike, the protocol's over ArrayBuffer: the same objects
    return this.request({ type: 'step', samples, vit } as unknown as Ask<Extract<Request, { type: 'step' }>>, transfer) as Promise<HelperResult>;
  }

  /** Per-parameter Σ g² of the last step's mean gradient over [k0, k1) (after `optim`). */
  async squares(ask: Omit<Extract<ToHelper, { type: 'squares' }>, 'id' | 'type'>): Promise<Float64Array> {
    const r = await this.request({ type: 'squares', ...ask });
    if (r.type !== 'squares' || r.sums.length !== ask.k1 - ask.k0) throw new Error(`answered Σ g² of ${ask.k1 - ask.k0} parameters wrongly`);
    return r.sums;
  }

  /** The optimizer step on parameters [k0, k1) of the shared weights (after `optim`). */
  async update(ask: Omit<Extract<ToHelper, { type: 'update' }>, 'id' | 'type'>): Promise<void> {
    const r = await this.request({ type: 'update', ...ask });
    if (r.type !== 'updated') throw new Error('answered an update with something else');
  }

  /** Hands the helper the optimizer's shared state (and every helper's gradient buffer). */
  optim(msg: Omit<Extract<ToHelper, { type: 'optim' }>, 'type'>): void {
    if (this.alive) this.worker.postMessage({ type: 'optim', ...msg });
  }

  private request(msg: Ask<Request>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (!this.alive) return Promise.reject(new Error(this.deadReason ?? 'closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /** Marks the helper dead (the reason is kept), rejects what it owes and stops its thread. */
  fail(reason: string): void {
    if (this.closed) return;
    this.deadReason ??= reason;
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    void this.worker.terminate();
  }

  private settle(id: number, f: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    f(p);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('closed'));
    this.pending.clear();
    this.worker.postMessage({ type: 'close' });
    await this.worker.terminate();
  }
}
