// The trainer's worker thread (built to dist/main/electron/worker-trainer.js). It speaks the protocol in
// core/jobs/protocol.ts. Job kinds: `probe` (the whole path without tfjs) and `train` (core/jobs/train-job.ts).
import { parentPort } from 'node:worker_threads';
import { FromWorker, ProbeConfig, ToWorker, TRAINER_PROTOCOL_VERSION } from '../core/jobs/protocol';

if (!parentPort) throw new Error('worker-trainer must run as a worker thread');
const port = parentPort;
const cancelled = new Set<string>();
const aborts = new Map<string, AbortController>();

function post(msg: FromWorker): void {
  port.postMessage(FromWorker.parse(msg));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probe(jobId: string, config: unknown): Promise<void> {
  const parsed = ProbeConfig.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    post({ type: 'done', jobId, status: 'error', message: `probe config: ${issue?.path.join('.') || '(root)'}: ${issue?.message}` });
    return;
  }
  const { steps, intervalMs } = parsed.data;
  for (let i = 1; i <= steps; i++) {
    // Yield to the event loop each step so a 'cancel' message can be received mid-job.
    await sleep(intervalMs);
    if (cancelled.has(jobId)) {
      post({ type: 'done', jobId, status: 'cancelled' });
      return;
    }
    post({ type: 'progress', jobId, fraction: i / steps, message: `step ${i}/${steps}`, metrics: { step: i } });
  }
  post({ type: 'done', jobId, status: 'ok', result: { steps } });
}

port.on('message', (raw: unknown) => {
  const parsed = ToWorker.safeParse(raw);
  if (!parsed.success) return; // the host only sends validated messages; anything else is ignored
  const msg = parsed.data;
  if (msg.type === 'shutdown') {
    port.close();
    return;
  }
  if (msg.type === 'cancel') {
    cancelled.add(msg.jobId);
    aborts.get(msg.jobId)?.abort();
    return;
  }
  const ctl = new AbortController();
  aborts.set(msg.jobId, ctl);
  const run =
    msg.kind === 'probe'
      ? probe(msg.jobId, msg.config)
      : msg.kind === 'train'
        ? // loaded on first use: tfjs, sharp and the store stay out of the probe path
          import('../core/jobs/train-job').then((m) => m.runTrainJob(msg.jobId, msg.config, post, ctl.signal)).then(post)
        : Promise.resolve(post({ type: 'done', jobId: msg.jobId, status: 'error', message: `job kind '${msg.kind}' is not available in this build` }));
  run
    .catch((err) => post({ type: 'done', jobId: msg.jobId, status: 'error', message: err instanceof Error ? err.message : String(err) }))
    .finally(() => {
      cancelled.delete(msg.jobId);
      aborts.delete(msg.jobId);
    });
});

post({ type: 'ready', protocol: TRAINER_PROTOCOL_VERSION, kinds: ['probe', 'train'] });
