// One build for every runtime: esbuild bundles main-process code (CLI, server, Electron main, workers,
// bench) as ESM for Node, the sandboxed Electron preload as CJS, and Vite builds the Vue renderer.
// node_modules stay external, so optional native packages (electron, tfjs-node) are resolved at run time.
import { build } from 'esbuild';
import { existsSync, rmSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const quiet = process.argv.includes('--quiet');
const skipRenderer = process.argv.includes('--no-renderer');

/** Every file named *.entry.ts or main.ts / preload.ts / worker*.ts under src-main is an entry point. */
function entries(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) entries(p, out);
    else if (/^(main|preload)\.ts$|\.entry\.ts$|^worker[\w-]*\.ts$/.test(name)) out.push(p);
  }
  return out;
}

const t0 = Date.now();
rmSync(join(dist, 'main'), { recursive: true, force: true });
rmSync(join(dist, 'bench'), { recursive: true, force: true });

const nodeEntries = entries(join(root, 'src-main')).filter((p) => !p.endsWith('preload.ts'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  alias: { '@contract': join(root, 'src-main/contract'), '@core': join(root, 'src-main/core') },
};
await build({
  ...common,
  entryPoints: nodeEntries,
  outbase: join(root, 'src-main'),
  outdir: join(dist, 'main'),
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});
const preload = join(root, 'src-main/electron/preload.ts');
if (existsSync(preload)) {
  // Sandboxed preloads cannot use ESM or require non-electron modules: bundle everything but electron.
  await build({ ...common, packages: undefined, external: ['electron'], entryPoints: [preload], outfile: join(dist, 'main/electron/preload.cjs'), format: 'cjs' });
}
const benchEntry = join(root, 'bench/run.ts');
if (existsSync(benchEntry)) {
  await build({ ...common, entryPoints: [benchEntry], outdir: join(dist, 'bench'), format: 'esm', splitting: true, chunkNames: 'chunks/[name]-[hash]' });
}
if (!skipRenderer && existsSync(join(root, 'src-renderer/vite.config.ts'))) {
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: join(root, 'src-renderer/vite.config.ts'), logLevel: quiet ? 'error' : 'warn' });
}
if (!quiet) console.log(`built ${nodeEntries.length} node entries${skipRenderer ? '' : ' + renderer'} into ${relative(process.cwd(), dist) || 'dist'} in ${Date.now() - t0} ms`);
