// The loops that combine the gradient helpers' shares of a step, shared by the trainer (grad-pool.ts) and the
// helpers themselves (worker-grad.ts): whoever computes a parameter's mean gradient or its Σ g² gets the same
// floats. Plain loops over typed arrays, each in a function of its own so the JIT sees one shape of arguments.

/** One share's part of a parameter's mean gradient: its weight (share size / batch) and values, or null. */
export interface SharePart {
  w: number;
  x: Float32Array | null;
}

/** out = Σ w·x over the shares that have values (in share order; `out` is left alone when none has). */
export function meanOf(parts: readonly SharePart[], out: Float32Array): void {
  let first = true;
  for (const p of parts) {
    if (!p.x) continue;
    if (first) scaleInto(out, p.x, p.w);
    else addScaled(out, p.x, p.w);
    first = false;
  }
}

/**
 * Σ g² of the mean meanOf would write. With two shares that both have values, straight from them (no mean written
 * anywhere); otherwise through `scratch` (the parameter's size).
 */
export function squaresOfMean(parts: readonly SharePart[], scratch: Float32Array): number {
  if (parts.length === 2 && parts[0].x && parts[1].x) return sumOfSquaresOfMean(parts[0].x, parts[1].x, parts[0].w, parts[1].w);
  meanOf(parts, scratch);
  return sumOfSquares(scratch);
}

export function scaleInto(out: Float32Array, x: Float32Array, w: number): void {
  for (let j = 0; j < out.length; j++) out[j] = w * x[j];
}

export function addScaled(out: Float32Array, x: Float32Array, w: number): void {
  for (let j = 0; j < out.length; j++) out[j] += w * x[j];
}

/** Σ g² of g = w0·x0 + w1·x1, rounded to float32 as scaleInto + addScaled would store it. */
function sumOfSquaresOfMean(x0: Float32Array, x1: Float32Array, w0: number, w1: number): number {
  let sum = 0;
  for (let j = 0; j < x0.length; j++) {
    const g = Math.fround(Math.fround(w0 * x0[j]) + w1 * x1[j]);
    sum += g * g;
  }
  return sum;
}

export function sumOfSquares(x: Float32Array): number {
  let sum = 0;
  for (let j = 0; j < x.length; j++) sum += x[j] * x[j];
  return sum;
}
