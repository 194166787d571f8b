// The tfjs export's inference.mjs runs in a browser (Chromium): loaded over HTTP with fetch, on the cpu backend,
// it reproduces the studio's raw outputs.
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-main/core/compute/engine';
import { exportTfjs } from '../../src-main/core/export/tfjs-export';
import { rawOutputs } from '../../src-main/core/export/runtime/raw-outputs';
import type { ExportSource } from '../../src-main/core/export/export-source';
import { inputBatch, installBackbone, makeSource, maxRelErr, setup, tmp } from '../core/export/helpers';

const CHROMIUM = process.env.HST_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

let dir: string;
let src: ExportSource;
let server: Server;
let port = 0;

const PAGE = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadHstModel } from './export/inference.mjs';
window.runExport = async (input, shape) => {
  await tf.setBackend('cpu');
  const m = await loadHstModel(location.origin + '/export/');
  const raw = m.raw(tf.tensor4d(Float32Array.from(input), shape));
  const out = {};
  for (const [k, t] of Object.entries(raw)) out[k] = { shape: t.shape, data: Array.from(t.dataSync()) };
  return out;
};
window.ready = true;
`;

beforeAll(async () => {
  if (!hasChromium) return;
  await setup();
  dir = tmp('hst-tfjs-browser-');
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  src = await makeSource(await installBackbone(dir));
  await exportTfjs(src, join(dir, 'export'));
  writeFileSync(join(dir, 'page.mjs'), PAGE);
  await build({ entryPoints: [join(dir, 'page.mjs')], bundle: true, format: 'esm', platform: 'browser', outfile: join(dir, 'page.js'), external: ['node:*'], logLevel: 'silent' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>');
  const types: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.html': 'text/html', '.bin': 'application/octet-stream' };
  server = createServer((req, res) => {
    const p = normalize(join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]) === '/' ? 'index.html' : decodeURIComponent((req.url ?? '/').split('?')[0])));
    if (!p.startsWith(dir) || !existsSync(p)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(p)] ?? 'application/octet-stream' }).end(readFileSync(p));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
}, 120_000);
afterAll(() => {
  src?.model.dispose();
  server?.close();
});

describe('tfjs export in a browser', () => {
  it.skipIf(!hasChromium)('Chromium loads the export over HTTP and reproduces the raw outputs (skipped only without Chromium)', async () => {
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, null, { timeout: 60_000 });
      const x = inputBatch(1, 13);
      const got = (await page.evaluate(
        ([input, shape]) => (window as unknown as { runExport: (i: number[], s: number[]) => Promise<unknown> }).runExport(input, shape),
        [Array.from(x.dataSync()), x.shape] as [number[], number[]],
      )) as Record<string, { shape: number[]; data: number[] }>;
      expect(errors).toEqual([]);
      const ref = rawOutputs(src.model.hst, src.model.heads, x);
      expect(Object.keys(got).sort()).toEqual(Object.keys(ref).sort());
      const errs: Record<string, number> = {};
      for (const [k, t] of Object.entries(ref)) {
        expect(got[k].shape, k).toEqual(t.shape);
        errs[k] = maxRelErr(Float32Array.from(got[k].data), t.dataSync() as Float32Array);
        expect(errs[k], k).toBeLessThan(1e-5);
      }
      console.log('tfjs export in Chromium: max relative error per output', errs);
      tf.dispose([x, ...Object.values(ref)]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
