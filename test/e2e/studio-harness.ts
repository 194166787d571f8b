// Shared set-up for browser journeys: a built `hst-studio serve` on a temp project folder, and Debian's
// Chromium driven by playwright-core with a fresh profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = process.env.HST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test/e2e/screenshots');

/** A readable failure instead of a silent skip: CI (.ci/run) installs chromium; the build runs in npm test. */
export function requireBrowserAndBuild(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium) or set HST_CHROMIUM; the end-to-end tests need it`);
  for (const f of ['dist/main/cli/main.js', 'dist/renderer/index.html'])
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` before the end-to-end tests`);
}

export interface Studio {
  url: string;
  tmp: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startStudio(args: string[] = []): Promise<Studio> {
  const tmp = mkdtempSync(join(tmpdir(), 'hst-e2e-'));
  const proc = spawn(process.execPath, [join(ROOT, 'bin/hst-studio.js'), 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, HST_DATA_DIR: join(tmp, 'userdata'), HST_BACKEND: 'cpu' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its URL in 30 s; output:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return {
    url,
    tmp,
    proc,
    stop: async () => {
      if (proc.exitCode === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export async function openBrowser(tmp: string): Promise<{ context: BrowserContext; page: Page }> {
  const profile = join(tmp, 'chromium-profile');
  mkdirSync(profile, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 820 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/** The studio serving `project` and a browser page on it, ready (what a journey opens in its beforeAll). */
export async function openStudioOn(project: string): Promise<{ studio: Studio; context: BrowserContext; page: Page }> {
  const studio = await startStudio(['--project', project]);
  const { context, page } = await openBrowser(studio.tmp);
  await page.goto(studio.url);
  await page.waitForSelector('[data-ready="true"]');
  return { studio, context, page };
}

/** The other half: browser, studio, the project's temp folder and the tiny-preset switch, all gone. */
export async function closeStudioOn(o: { studio?: Studio; context?: BrowserContext; project?: string }): Promise<void> {
  delete process.env.HST_TRAIN_PRESET;
  await o.context?.close();
  await o.studio?.stop();
  if (o.project) rmSync(dirname(o.project), { recursive: true, force: true });
}

/** Simple test pictures: coloured shapes on a plain background, `count` of them, w×h. */
export async function writeTestImages(dir: string, count: number, w = 800, h = 600): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const colours = ['#c94f4f', '#4f8bc9', '#5fb37a', '#c9a24f'];
  const out = [];
  for (let i = 0; i < count; i++) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="#d8d2c4"/>
      <rect x="${100 + i * 20}" y="100" width="200" height="150" fill="${colours[i % 4]}"/>
      <circle cx="${480 - i * 10}" cy="200" r="90" fill="${colours[(i + 1) % 4]}"/>
      <ellipse cx="220" cy="430" rx="90" ry="40" fill="${colours[(i + 2) % 4]}"/></svg>`;
    const p = join(dir, `photo-${i + 1}.jpg`);
    await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toFile(p);
    out.push(p);
  }
  return out;
}
