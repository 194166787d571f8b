"""The studio's training RNG (training/data/rng.ts): xoshiro128** seeded through FNV-1a + splitmix32, exact 32-bit
integer arithmetic, so the same seeds give the same shuffles and augmentations as the studio."""
M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def _hash_seeds(seeds):
    h = 0x811C9DC5
    for s in seeds:
        v = int(s)
        h = _imul(h ^ (v & M32), 0x01000193)
        h = _imul(h ^ ((v // 2 ** 32) & M32), 0x01000193)
    return h


def _splitmix32(seed):
    a = seed & M32

    def nxt():
        nonlocal a
        a = (a + 0x9E3779B9) & M32
        t = a ^ (a >> 16)
        t = _imul(t, 0x21F0AAAD)
        t ^= t >> 15
        t = _imul(t, 0x735A2D97)
        return (t ^ (t >> 15)) & M32

    return nxt


class Rng:
    def __init__(self, *seeds):
        sm = _splitmix32(_hash_seeds(seeds))
        self.s = [sm(), sm(), sm(), sm()]
        if not any(self.s):
            self.s[0] = 1

    @classmethod
    def from_state(cls, state):
        r = cls(0)
        if len(state) != 4 or not any(state):
            raise ValueError(f"RNG state must be four unsigned 32-bit integers, not all zero: {state}")
        r.s = [int(v) & M32 for v in state]
        return r

    def get_state(self):
        return list(self.s)

    def u32(self):
        s0, s1, s2, s3 = self.s
        result = _imul(_rotl(_imul(s1, 5), 7), 9)
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def next(self):
        return self.u32() / 4294967296

    def uniform(self, lo, hi):
        return lo + (hi - lo) * self.next()

    def shuffle(self, xs):
        for i in range(len(xs) - 1, 0, -1):
            j = int(self.next() * (i + 1))
            xs[i], xs[j] = xs[j], xs[i]
        return xs
