// Access to the PyTorch reference fixtures in ../shared/fixtures. Tests that need them call these helpers, which
// throw with an explanation when the folder is missing instead of letting a test pass vacuously.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, toFloat32, type StFile } from '../../../src-main/core/io/safetensors';
import { tf } from '../../../src-main/core/compute/engine';

export const FIXTURES_DIR = fileURLToPath(new URL('../../../../shared/fixtures', import.meta.url));

export function fixturePath(...parts: string[]): string {
  const p = join(FIXTURES_DIR, ...parts);
  if (!existsSync(p)) {
    throw new Error(
      `reference fixture ${p} is missing: these parity tests compare against PyTorch outputs stored in ../shared/fixtures ` +
        `(relative to the project root); check out the shared folder next to the project`,
    );
  }
  return p;
}

export async function readFixture(...parts: string[]): Promise<StFile> {
  return readSafetensors(fixturePath(...parts));
}

/** A fixture tensor as a tf tensor in its stored layout. */
export function fixtureTensor(file: StFile, name: string): tf.Tensor {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`fixture has no tensor '${name}'`);
  return tf.tensor(toFloat32(t, name), t.shape);
}

/** ‖a − b‖ / ‖b‖ */
export function relError(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join(',') !== b.shape.join(',')) throw new Error(`shape mismatch: [${a.shape}] vs [${b.shape}]`);
  return tf.tidy(() => tf.norm(tf.sub(a, b)).dataSync()[0] / tf.norm(b).dataSync()[0]);
}
