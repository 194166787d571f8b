// tfjs's random ops read a falsy seed as "no seed" and draw from Math.random, so a computed seed of 0 would make
// a seeded initialisation unrepeatable. Every seed handed to tfjs goes through here.
const ZERO_SEED_STANDIN = 0x5eed;

export function tfSeed(seed: number): number {
  return seed === 0 ? ZERO_SEED_STANDIN : seed;
}
