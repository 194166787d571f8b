// Multithreaded wasm in Node. The threaded tfjs-backend-wasm build is written for browsers: it turns
// off threads under Node, hands worker_threads a `blob:` URL (which Node cannot run), and its workers
// evaluate the main module's factory source, which refers to names that only exist at the top of
// the tfjs bundle (require$$0, commonjsGlobal, tslib helpers). We give emscripten real files, define
// those names in each worker, and report twice the cores while the backend starts, because the C++
// side sizes its pool at cores / 2 (= 1 thread on a 2-core machine).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';

const require = createRequire(import.meta.url);
const MAIN_SCRIPT_PREFIX = 'var WasmBackendModuleThreadedSimd';

/** Names the factory source uses that are defined at the top level of tf-backend-wasm.node.js. */
const WORKER_GLOBALS = `
;(function () {
  var g = globalThis;
  g.require$$0 = require('fs'); g.require$$1 = require('path');
  g.require$$3 = require('perf_hooks'); g.require$$4 = require('os');
  g.commonjsGlobal = g; g._scriptDir = __filename;
  g.__values = function (o) {
    var m = typeof Symbol === 'function' && o[Symbol.iterator], i = 0;
    if (m) return m.call(o);
    return { next: function () { if (o && i >= o.length) o = void 0; return { value: o && o[i++], done: !o }; } };
  };
  g.__read = function (o, n) {
    var m = typeof Symbol === 'function' && o[Symbol.iterator];
    if (!m) return o;
    var it = m.call(o), ar = [], r;
    while ((n === void 0 || n-- > 0) && !(r = it.next()).done) ar.push(r.value);
    return ar;
  };
  g.__spreadArray = function (to, from) { return to.concat(Array.prototype.slice.call(from)); };
})();
`;

/** Replace the posted Blob of the main script (unreadable by importScripts in Node) by its file. */
function workerEpilogue(mainScriptFile: string): string {
  return `
;(function () {
  var inner = self.onmessage;
  self.onmessage = function (e) {
    if (e && e.data && e.data.cmd === 'load' && typeof e.data.urlOrBlob !== 'string') e.data.urlOrBlob = ${JSON.stringify(mainScriptFile)};
    return inner(e);
  };
})();
`;
}

/** Write `text` to `dir/name` once; concurrent processes write a temp file and rename (atomic). */
function writeOnce(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return file;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return file;
}

export interface ThreadPatch {
  /** Undo every global change (Blob, URL.createObjectURL, os.cpus, worker_threads.Worker). */
  restore(): void;
  /** Stop every worker started while the patch was active (used when start-up hangs). */
  terminateWorkers(): void;
  /** Workers emscripten created (8 up front, more if the pool needs them). */
  workerCount(): number;
}

/**
 * Install the globals the threaded build needs, for the duration of `tf.setBackend('wasm')`,
 * for a pool of `threads` threads.
 * `fileDir` is where the worker and main-script files go (content-addressed, shared by processes).
 */
/** Per user, so one user's files never block another's (a failed write only costs the threads). */
function defaultFileDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return path.join(os.tmpdir(), `hst-studio-wasm-${uid}`);
}

export function patchForWasmThreads(threads: number, fileDir = defaultFileDir()): ThreadPatch {
  const workerThreads = require('node:worker_threads') as typeof import('node:worker_threads');
  const OrigWorker = workerThreads.Worker;
  const OrigBlob = globalThis.Blob;
  const origCreateObjectURL = URL.createObjectURL;
  const origCpus = os.cpus;
  const texts = new WeakMap<object, string>();
  const workers: InstanceType<typeof OrigWorker>[] = [];
  let mainScriptFile: string | null = null;

  class RecordingBlob extends OrigBlob {
    constructor(parts?: ConstructorParameters<typeof Blob>[0], options?: ConstructorParameters<typeof Blob>[1]) {
      super(parts ?? [], options);
      if (parts && parts.every((p) => typeof p === 'string')) {
        const text = (parts as string[]).join('');
        texts.set(this, text);
        if (text.startsWith(MAIN_SCRIPT_PREFIX)) {
          const hash = createHash('sha1').update(text).digest('hex').slice(0, 12);
          mainScriptFile = writeOnce(fileDir, `threaded-main-${hash}.cjs`, text);
        }
      }
    }
  }
  // The pool's threads wait on atomics forever; an un-ref'd worker lets the process exit when
  // the main thread is done. While an op runs, the main thread is blocked anyway.
  class UnrefWorker extends OrigWorker {
    constructor(...args: ConstructorParameters<typeof OrigWorker>) {
      super(...args);
      workers.push(this);
      super.unref();
    }
    override ref(): void {}
  }

  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = (obj: Blob) => {
    const text = texts.get(obj);
    if (text == null || mainScriptFile == null) return origCreateObjectURL(obj);
    const body = text + WORKER_GLOBALS + workerEpilogue(mainScriptFile);
    const hash = createHash('sha1').update(body).digest('hex').slice(0, 12);
    return writeOnce(fileDir, `threaded-worker-${hash}.cjs`, body);
  };
  (workerThreads as { Worker: unknown }).Worker = UnrefWorker;
  // The C++ side allows at most cores / 2 threads: report enough cores for `threads`.
  const inflated = () => {
    const c = origCpus();
    const copies = Math.max(2, Math.ceil((2 * threads) / Math.max(1, c.length)));
    return Array.from({ length: copies }, () => c).flat();
  };
  os.cpus = inflated;

  return {
    restore() {
      globalThis.Blob = OrigBlob;
      URL.createObjectURL = origCreateObjectURL;
      (workerThreads as { Worker: unknown }).Worker = OrigWorker;
      os.cpus = origCpus;
    },
    terminateWorkers() {
      for (const w of workers) void w.terminate();
    },
    workerCount: () => workers.length,
  };
}
