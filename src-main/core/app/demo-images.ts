// A handful of synthetic pictures for the demo project and for tests: shapes on textured backgrounds,
// rendered from SVG by sharp so nothing has to be downloaded.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const PALETTE = ['#d9534f', '#5bc0de', '#f0ad4e', '#5cb85c', '#9b59b6', '#34495e'];

function scene(i: number, w: number, h: number): string {
  const bg = ['#cfd8dc', '#d7ccc8', '#c8e6c9', '#fff9c4', '#bbdefb', '#f8bbd0'][i % 6];
  let shapes = '';
  let seed = i * 9301 + 49297;
  const rnd = () => ((seed = (seed * 9301 + 49297) % 233280) / 233280);
  for (let k = 0; k < 4; k++) {
    const x = rnd() * w * 0.7, y = rnd() * h * 0.7, s = (0.1 + rnd() * 0.2) * Math.min(w, h);
    const c = PALETTE[(i + k) % PALETTE.length];
    shapes += k % 2 ? `<circle cx="${x + s / 2}" cy="${y + s / 2}" r="${s / 2}" fill="${c}"/>` : `<rect x="${x}" y="${y}" width="${s * 1.3}" height="${s}" rx="6" fill="${c}"/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="${bg}"/>${shapes}</svg>`;
}

/** Writes `count` JPEGs named demo-01.jpg… into `dir`; returns their paths. */
export async function writeDemoImages(dir: string, count = 6, width = 640, height = 480): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = join(dir, `demo-${String(i + 1).padStart(2, '0')}.jpg`);
    await sharp(Buffer.from(scene(i, width, height))).jpeg({ quality: 85 }).toFile(p);
    out.push(p);
  }
  return out;
}
