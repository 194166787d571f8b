// The training worker thread (built to dist/main/core/training/worker-train.js): speaks the trainer protocol
// (src-main/electron/trainer-protocol.ts; no Electron import) and runs `train` jobs, one at a time, so the
// process that asked never blocks on tfjs.
import { parentPort } from 'node:worker_threads';
import { FromWorker, ToWorker, TRAINER_PROTOCOL_VERSION } from '../../electron/trainer-protocol';
import { runTrainJob } from './train-job';
import { PAUSE } from './train-project';

if (!parentPort) throw new Error('worker-train must run as a worker thread');
const port = parentPort;
const jobs = new Map<string, AbortController>();

function post(msg: FromWorker): void {
  port.postMessage(FromWorker.parse(msg));
}

port.on('message', (raw: unknown) => {
  const parsed = ToWorker.safeParse(raw);
  if (!parsed.success) return;
  const msg = parsed.data;
  if (msg.type === 'shutdown') {
    for (const c of jobs.values()) c.abort();
    port.close();
    return;
  }
  if (msg.type === 'cancel') {
    jobs.get(msg.jobId)?.abort(msg.pause ? PAUSE : undefined);
    return;
  }
  if (msg.kind !== 'train') {
    post({ type: 'done', jobId: msg.jobId, status: 'error', message: `job kind '${msg.kind}' is not known to the training worker (known: train)` });
    return;
  }
  if (jobs.size > 0) {
    post({ type: 'done', jobId: msg.jobId, status: 'error', message: 'a training job is already running in this worker' });
    return;
  }
  const ctl = new AbortController();
  jobs.set(msg.jobId, ctl);
  runTrainJob(msg.jobId, msg.config, post, ctl.signal)
    .then(post)
    .catch((err) => post({ type: 'done', jobId: msg.jobId, status: 'error', message: (err instanceof Error ? err.message : String(err)).slice(0, 2000) }))
    .finally(() => jobs.delete(msg.jobId));
});

post({ type: 'ready', protocol: TRAINER_PROTOCOL_VERSION, kinds: ['train'] });
