// Colour and texture helpers for the synthetic shapes: an RGB float canvas, HSL colours, value noise and
// the cluttered backgrounds (noise, stripes, distractor blobs, scribbles) the shapes sit on.
import { Rng } from './rng';

export type Rgb = [number, number, number];

/** h in degrees, s and l in [0, 1] → RGB in [0, 255]. */
export function hsl(h: number, s: number, l: number): Rgb {
  h = ((h % 360) + 360) % 360;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [(r + m) * 255, (g + m) * 255, (b + m) * 255];
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scale(a: Rgb, f: number): Rgb {
  return [a[0] * f, a[1] * f, a[2] * f];
}

/** Float RGB image, row-major, 3 channels. */
export class Canvas {
  readonly data: Float32Array;
  constructor(readonly w: number, readonly h: number) {
    this.data = new Float32Array(w * h * 3);
  }
  /** Blend colour c over pixel (x, y) with opacity a. */
  blend(x: number, y: number, c: Rgb, a: number): void {
    const i = (y * this.w + x) * 3;
    const d = this.data;
    d[i] += (c[0] - d[i]) * a;
    d[i + 1] += (c[1] - d[i + 1]) * a;
    d[i + 2] += (c[2] - d[i + 2]) * a;
  }
  toRgb8(): Buffer {
    const out = Buffer.alloc(this.w * this.h * 3);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(this.data[i])));
    return out;
  }
}

/** Smooth 2-D value noise in [0, 1] on a lattice of `cell` pixels (bilinear with smoothstep). */
export function valueNoise(rng: Rng, w: number, h: number, cell: number): Float32Array {
  const gw = Math.ceil(w / cell) + 2;
  const gh = Math.ceil(h / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next();
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    let ty = gy - y0;
    ty = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < w; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      let tx = gx - x0;
      tx = tx * tx * (3 - 2 * tx);
      const a = grid[y0 * gw + x0];
      const b = grid[y0 * gw + x0 + 1];
      const c = grid[(y0 + 1) * gw + x0];
      const d = grid[(y0 + 1) * gw + x0 + 1];
      out[y * w + x] = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
    }
  }
  return out;
}

/** Inside test for an irregular blob: radius wobbles with a few random harmonics. */
export function blob(rng: Rng, cx: number, cy: number, r: number): (x: number, y: number) => boolean {
  const harm = [2, 3, 4].map((k) => ({ k, a: rng.uniform(0.04, 0.2) / (k - 1), p: rng.uniform(0, 2 * Math.PI) }));
  return (x, y) => {
    const dx = x - cx;
    const dy = y - cy;
    const t = Math.atan2(dy, dx);
    let rr = r;
    for (const { k, a, p } of harm) rr += r * a * Math.sin(k * t + p);
    return dx * dx + dy * dy <= rr * rr;
  };
}

/**
 * A cluttered background: a two-colour noise field, optionally stripes or a grid, then distractor blobs and
 * scribbles in arbitrary colours (they are not objects and carry no annotation).
 */
export function paintBackground(rng: Rng, cv: Canvas): void {
  const { w, h } = cv;
  const baseHue = rng.uniform(0, 360);
  const c1 = hsl(baseHue, rng.uniform(0.05, 0.35), rng.uniform(0.35, 0.7));
  const c2 = hsl(baseHue + rng.uniform(-60, 60), rng.uniform(0.05, 0.4), rng.uniform(0.25, 0.75));
  const coarse = valueNoise(rng, w, h, rng.uniform(w / 5, w / 2));
  const fine = valueNoise(rng, w, h, rng.uniform(3, 8));
  const kind = rng.int(0, 2); // 0 plain noise, 1 stripes, 2 grid/tiles
  const ang = rng.uniform(0, Math.PI);
  const period = rng.uniform(6, 18);
  const ca = Math.cos(ang);
  const sa = Math.sin(ang);
  const stripeAmp = rng.uniform(0.1, 0.25);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      let t = 0.7 * coarse[p] + 0.3 * fine[p];
      if (kind === 1) t += stripeAmp * Math.sign(Math.sin((2 * Math.PI * (x * ca + y * sa)) / period));
      else if (kind === 2) t += (Math.floor(x / period) + Math.floor(y / period)) % 2 ? stripeAmp : -stripeAmp;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const i = p * 3;
      cv.data[i] = c1[0] + (c2[0] - c1[0]) * t;
      cv.data[i + 1] = c1[1] + (c2[1] - c1[1]) * t;
      cv.data[i + 2] = c1[2] + (c2[2] - c1[2]) * t;
    }
  }
  const nBlobs = rng.int(2, 6);
  for (let b = 0; b < nBlobs; b++) {
    const r = rng.uniform(0.04, 0.16) * Math.min(w, h);
    const cx = rng.uniform(0, w);
    const cy = rng.uniform(0, h);
    const inside = blob(rng, cx, cy, r);
    const col = hsl(rng.uniform(0, 360), rng.uniform(0.1, 0.6), rng.uniform(0.2, 0.8));
    const alpha = rng.uniform(0.5, 0.95);
    const x0 = Math.max(0, Math.floor(cx - 1.8 * r));
    const x1 = Math.min(w - 1, Math.ceil(cx + 1.8 * r));
    const y0 = Math.max(0, Math.floor(cy - 1.8 * r));
    const y1 = Math.min(h - 1, Math.ceil(cy + 1.8 * r));
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (inside(x + 0.5, y + 0.5)) cv.blend(x, y, col, alpha);
  }
  const nLines = rng.int(1, 4);
  for (let l = 0; l < nLines; l++) {
    const col = hsl(rng.uniform(0, 360), rng.uniform(0, 0.5), rng.uniform(0.1, 0.9));
    let x = rng.uniform(0, w);
    let y = rng.uniform(0, h);
    let dir = rng.uniform(0, 2 * Math.PI);
    const width = rng.uniform(0.8, 2.2);
    const steps = Math.floor(rng.uniform(0.3, 1) * (w + h));
    for (let s = 0; s < steps; s++) {
      dir += rng.normal() * 0.08;
      x += Math.cos(dir);
      y += Math.sin(dir);
      for (let yy = Math.floor(y - width); yy <= Math.ceil(y + width); yy++) {
        for (let xx = Math.floor(x - width); xx <= Math.ceil(x + width); xx++) {
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          if ((xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 <= width * width) cv.blend(xx, yy, col, 0.35);
        }
      }
    }
  }
}
