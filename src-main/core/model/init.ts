// Initialisers matching the authors' code (spec §3.7) and timm's ViT init for an explicitly random backbone.
import { tf } from '../compute/engine';
import type { SeedStream } from './params';

/** timm trunc_normal_(std) truncates at ±2 absolute, which for std 0.02 is effectively ±100σ; tf's ±2σ is close enough for an init. */
export const truncNormal = (seeds: SeedStream, std = 0.02) => (shape: number[]) => tf.truncatedNormal(shape, 0, std, 'float32', seeds.next());
export const zeros = () => (shape: number[]) => tf.zeros(shape);
export const ones = () => (shape: number[]) => tf.ones(shape);
export const normal = (seeds: SeedStream, std: number) => (shape: number[]) => tf.randomNormal(shape, 0, std, 'float32', seeds.next());
export const uniform = (seeds: SeedStream, bound: number) => (shape: number[]) => tf.randomUniform(shape, -bound, bound, 'float32', seeds.next());

/** Conv2d init of the side network: N(0, √(2/fan_out)), fan_out = kh·kw·out (shape is [kh, kw, in, out]). */
export const convFanOut = (seeds: SeedStream) => (shape: number[]) =>
  tf.randomNormal(shape, 0, Math.sqrt(2 / (shape[0] * shape[1] * shape[3])), 'float32', seeds.next());
