"""COCO RLE decoding and pycocotools frPoly polygon rasterisation, ported from the studio's geometry/rle.ts and
geometry/rasterize.ts (so masks from polygons are the same pixels)."""
import math

import numpy as np

SCALE = 5


def counts_from_string(s):
    counts = []
    p, n = 0, len(s)
    while p < n:
        x, scale, c = 0, 1, 0
        while True:
            if p >= n:
                raise ValueError(f"RLE string ends inside a count (at character {p})")
            c = ord(s[p]) - 48
            if c < 0 or c > 63:
                raise ValueError(f"RLE string has an invalid character {s[p]!r} at {p}")
            x += (c & 0x1F) * scale
            scale *= 32
            p += 1
            if not c & 0x20:
                break
        if c & 0x10:
            x -= scale
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def decode_counts(h, w, counts):
    """Column-major runs → row-major uint8 [h, w]."""
    if any(c < 0 for c in counts) or sum(counts) != h * w:
        raise ValueError(f"RLE counts sum to {sum(counts)}, expected {h}·{w}")
    flat = np.zeros(h * w, dtype=np.uint8)
    pos = 0
    for i, n in enumerate(counts):
        if i % 2 == 1:
            flat[pos:pos + n] = 1
        pos += n
    return flat.reshape(w, h).T.copy()


def decode_rle(rle):
    h, w = rle["size"]
    counts = counts_from_string(rle["counts"]) if isinstance(rle["counts"], str) else list(rle["counts"])
    return decode_counts(h, w, counts)


def _cround(v):
    return math.trunc(v + 0.5)


def polygon_to_counts(ring, h, w):
    """One ring → column-major run counts of an h×w mask (rasterize.ts polygonToRaw, pycocotools frPoly)."""
    k = len(ring) // 2
    xs = [_cround(SCALE * ring[2 * j]) for j in range(k)] + [0]
    ys = [_cround(SCALE * ring[2 * j + 1]) for j in range(k)] + [0]
    xs[k], ys[k] = xs[0], ys[0]
    u, v = [], []
    for j in range(k):
        x0, x1, y0, y1 = xs[j], xs[j + 1], ys[j], ys[j + 1]
        dx, dy = abs(x1 - x0), abs(y0 - y1)
        flip = (dx >= dy and x0 > x1) or (dx < dy and y0 > y1)
        if flip:
            x0, x1, y0, y1 = x1, x0, y1, y0
        if dx >= dy:
            s = 0 if dx == 0 else (y1 - y0) / dx
            for d in range(dx + 1):
                t = dx - d if flip else d
                u.append(t + x0)
                v.append(_cround(y0 + s * t))
        else:
            s = (x1 - x0) / dy
            for d in range(dy + 1):
                t = dy - d if flip else d
                v.append(t + y0)
                u.append(_cround(x0 + s * t))
    pos = []
    for j in range(1, len(u)):
        if u[j] == u[j - 1]:
            continue
        xd = u[j] if u[j] < u[j - 1] else u[j] - 1
        xd = (xd + 0.5) / SCALE - 0.5
        if math.floor(xd) != xd or xd < 0 or xd > w - 1:
            continue
        yd = v[j] if v[j] < v[j - 1] else v[j - 1]
        yd = (yd + 0.5) / SCALE - 0.5
        yd = 0 if yd < 0 else (h if yd > h else yd)
        pos.append(int(xd) * h + math.ceil(yd))
    a = sorted(pos) + [h * w]
    prev = 0
    diffs = []
    for t in a:
        diffs.append(t - prev)
        prev = t
    counts = [diffs[0]]
    j = 1
    n = len(diffs)
    while j < n:
        if diffs[j] > 0:
            counts.append(diffs[j])
            j += 1
        else:
            j += 1
            if j < n:
                counts[-1] += diffs[j]
                j += 1
    return counts


def polygons_to_mask(rings, h, w):
    m = np.zeros((h, w), dtype=np.uint8)
    for r in rings:
        m |= decode_counts(h, w, polygon_to_counts(r, h, w))
    return m


def rings_bbox(rings):
    xs = [v for r in rings for v in r[0::2]]
    ys = [v for r in rings for v in r[1::2]]
    x0, y0 = min(xs), min(ys)
    return [x0, y0, max(xs) - x0, max(ys) - y0]
