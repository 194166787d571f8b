// The training worker thread (built to dist/main/core/jobs/worker-train.js): speaks the trainer protocol
// (src-main/core/jobs/protocol.ts; no Electron import) and runs `train`, `predict` and `export` jobs,
// one at a time, so the process that asked never blocks on tfjs.
import { parentPort } from 'node:worker_threads';
import { FromWorker, ToWorker, TRAINER_PROTOCOL_VERSION } from './protocol';
import { runExportJob } from './export-job';
import { runPredictJob } from './predict-job';
import { runTrainJob } from './train-job';
import { PAUSE } from '../training/train-project';

type Runner = (jobId: string, config: unknown, post: (m: FromWorker) => void, signal: AbortSignal) => Promise<FromWorker>;
const RUNNERS: Record<string, Runner> = { train: runTrainJob, predict: runPredictJob, export: runExportJob };

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
  const run = RUNNERS[msg.kind];
  if (!run) {
    post({ type: 'done', jobId: msg.jobId, status: 'error', message: `job kind '${msg.kind}' is not known to the training worker (known: ${Object.keys(RUNNERS).join(', ')})` });
    return;
  }
  if (jobs.size > 0) {
    post({ type: 'done', jobId: msg.jobId, status: 'error', message: 'a training job is already running in this worker' });
    return;
  }
  const ctl = new AbortController();
  jobs.set(msg.jobId, ctl);
  run(msg.jobId, msg.config, post, ctl.signal)
    .then(post)
    .catch((err) => post({ type: 'done', jobId: msg.jobId, status: 'error', message: (err instanceof Error ? err.message : String(err)).slice(0, 2000) }))
    .finally(() => jobs.delete(msg.jobId));
});

post({ type: 'ready', protocol: TRAINER_PROTOCOL_VERSION, kinds: Object.keys(RUNNERS) });
