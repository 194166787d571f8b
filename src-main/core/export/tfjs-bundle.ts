// Builds the tfjs export's `inference.mjs` by bundling the studio's own model + head code (runtime/inference.ts)
// with esbuild, so the export runs the one implementation the studio runs. The compute engine (backend choice,
// Node-only probing) is replaced by a shim that re-exports @tensorflow/tfjs-core, which stays an import.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENTRY_REL = join('src-main', 'core', 'export', 'runtime', 'inference.ts');

/** The runtime entry's source file, searched upwards from this module (works from src-main and from dist/). */
export function runtimeEntry(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const p = join(d, ENTRY_REL);
    if (existsSync(p)) return p;
    const local = join(d, 'runtime', 'inference.ts');
    if (existsSync(local)) return local;
    d = dirname(d);
  }
  const fromCwd = join(process.cwd(), ENTRY_REL);
  if (existsSync(fromCwd)) return fromCwd;
  throw new Error(`the tfjs export needs the studio's runtime sources (${ENTRY_REL}), which this installation lacks`);
}

let cached: string | null = null;

/** The bundled runtime as ES module source text (cached per process). */
export async function bundleRuntime(): Promise<string> {
  if (cached) return cached;
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('the tfjs export bundles its inference module with esbuild, which is not installed here (npm install esbuild)');
  }
  const r = await esbuild.build({
    entryPoints: [runtimeEntry()],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2020',
    external: ['@tensorflow/tfjs-core', 'node:*'],
    legalComments: 'none',
    logLevel: 'silent',
    banner: { js: '// HST Studio exported model runtime (generated; needs @tensorflow/tfjs-core and a registered backend)' },
    plugins: [
      {
        name: 'engine-shim',
        setup(b) {
          b.onResolve({ filter: /compute\/engine$/ }, () => ({ path: 'engine', namespace: 'hst-shim' }));
          b.onLoad({ filter: /.*/, namespace: 'hst-shim' }, () => ({ contents: "import * as tf from '@tensorflow/tfjs-core';\nexport { tf };\n// browsers read webgpu tensors synchronously; nothing to prepare\nexport async function readyForSyncRead() {}\n", loader: 'js' }));
        },
      },
    ],
  });
  cached = r.outputFiles[0].text;
  return cached;
}
