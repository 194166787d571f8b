// The shape classes of the demo data. Each class has its own outline and its own look (hue family and
// texture), with per-instance jitter, so a detector has to use both shape and appearance cues.
import { hsl, mix, scale, type Rgb } from './paint';
import { Rng } from './rng';

export const SHAPE_CLASSES = ['circle', 'triangle', 'square', 'star'] as const;
export type ShapeClassName = (typeof SHAPE_CLASSES)[number];

/** Display colours for the label classes (the hue family the class is drawn in). */
export const SHAPE_CLASS_COLORS: Record<ShapeClassName, string> = {
  circle: '#e4572e',
  triangle: '#4caf50',
  square: '#2e86de',
  star: '#f2c14e',
};

export interface ShapeInstance {
  cls: ShapeClassName;
  cx: number;
  cy: number;
  /** Circumradius in pixels. */
  r: number;
  theta: number;
  /** Whether the point (in pixel coordinates; pixel (x, y) has its centre at x+.5, y+.5) lies inside. */
  inside: (x: number, y: number) => boolean;
  /** Surface colour at a point (texture). */
  colour: (x: number, y: number) => Rgb;
}

function polygonInside(xs: number[], ys: number[]): (x: number, y: number) => boolean {
  const n = xs.length;
  return (x, y) => {
    let c = false;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      if (ys[i] > y !== ys[j] > y && x < ((xs[j] - xs[i]) * (y - ys[i])) / (ys[j] - ys[i]) + xs[i]) c = !c;
    }
    return c;
  };
}

function regular(cx: number, cy: number, radii: number[], theta: number) {
  const n = radii.length;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < n; k++) {
    const a = theta + (2 * Math.PI * k) / n;
    xs.push(cx + radii[k] * Math.cos(a));
    ys.push(cy + radii[k] * Math.sin(a));
  }
  return polygonInside(xs, ys);
}

/** Outline of a class at a position; `r` is the circumradius. */
export function makeShape(rng: Rng, cls: ShapeClassName, cx: number, cy: number, r: number): ShapeInstance {
  const theta = rng.uniform(0, 2 * Math.PI);
  let inside: (x: number, y: number) => boolean;
  let colour: (x: number, y: number) => Rgb;
  switch (cls) {
    case 'circle': {
      // a shaded ball: red-orange, lit from a random side
      const rr = r * 0.85;
      inside = (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= rr * rr;
      const base = hsl(rng.uniform(-8, 28), rng.uniform(0.7, 0.95), rng.uniform(0.42, 0.55));
      const hl = hsl(rng.uniform(20, 45), 0.9, 0.85);
      const lx = cx + 0.4 * rr * Math.cos(theta);
      const ly = cy + 0.4 * rr * Math.sin(theta);
      colour = (x, y) => {
        const d = Math.sqrt((x - lx) ** 2 + (y - ly) ** 2) / (1.4 * rr);
        return d < 0.35 ? mix(hl, base, d / 0.35) : scale(base, 1 - 0.35 * Math.min(1, d - 0.35));
      };
      break;
    }
    case 'triangle': {
      // green with diagonal stripes
      inside = regular(cx, cy, [r, r, r], theta);
      const a = hsl(rng.uniform(90, 140), rng.uniform(0.55, 0.85), rng.uniform(0.35, 0.45));
      const b = hsl(rng.uniform(90, 140), rng.uniform(0.5, 0.8), rng.uniform(0.55, 0.65));
      const period = rng.uniform(4, 7);
      const phi = rng.uniform(0, Math.PI);
      const c = Math.cos(phi);
      const s = Math.sin(phi);
      colour = (x, y) => (Math.floor((x * c + y * s) / period) % 2 === 0 ? a : b);
      break;
    }
    case 'square': {
      // blue with a checker texture
      inside = regular(cx, cy, [r, r, r, r], theta);
      const a = hsl(rng.uniform(200, 240), rng.uniform(0.6, 0.85), rng.uniform(0.35, 0.45));
      const b = hsl(rng.uniform(195, 235), rng.uniform(0.5, 0.8), rng.uniform(0.55, 0.68));
      const cell = rng.uniform(3.5, 6);
      const c = Math.cos(theta);
      const s = Math.sin(theta);
      colour = (x, y) => {
        const u = (x - cx) * c + (y - cy) * s;
        const v = -(x - cx) * s + (y - cy) * c;
        return (Math.floor(u / cell) + Math.floor(v / cell)) % 2 === 0 ? a : b;
      };
      break;
    }
    case 'star': {
      // golden five-pointed star, darker towards the points
      const inner = rng.uniform(0.4, 0.5);
      inside = regular(cx, cy, [r, r * inner, r, r * inner, r, r * inner, r, r * inner, r, r * inner], theta);
      const base = hsl(rng.uniform(40, 55), rng.uniform(0.8, 1), rng.uniform(0.5, 0.6));
      const edge = hsl(rng.uniform(28, 38), 0.9, 0.35);
      colour = (x, y) => mix(base, edge, Math.min(1, Math.sqrt((x - cx) ** 2 + (y - cy) ** 2) / r) ** 2);
      break;
    }
  }
  return { cls, cx, cy, r, theta, inside, colour };
}
