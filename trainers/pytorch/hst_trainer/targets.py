"""Target assignment, ported from heads/fcos-targets.ts, heads/condinst-targets.ts, heads/semantic-targets.ts.
Plain numpy (float64 arithmetic on float32 inputs, float32 outputs, as the studio's JS numbers/typed arrays)."""
import math

import numpy as np

IGNORE = 255


def level_shapes(H, W, strides):
    return [(s, -(-H // s), -(-W // s)) for s in strides]


def default_scale_ranges(strides):
    return [(0 if i == 0 else 8 * strides[i - 1], math.inf if i == len(strides) - 1 else 8 * s) for i, s in enumerate(strides)]


def locations_for(levels):
    out = []
    for s, h, w in levels:
        jj, ii = np.meshgrid(np.arange(w), np.arange(h))
        out.append(np.stack([jj.ravel() * s + s // 2, ii.ravel() * s + s // 2], 1))
    return np.concatenate(out, 0).astype(np.float64)


def location_strides(levels):
    return np.concatenate([np.full(h * w, s, dtype=np.float64) for s, h, w in levels])


def valid_box(b):
    x1, y1, x2, y2 = b
    return all(map(math.isfinite, b)) and x2 > x1 and y2 > y1


def assign_fcos(gts, levels, num_classes, radius=1.5):
    """gts: list of (boxes [n,4] float32, labels [n] int). Returns a dict of the studio's FcosTargets fields."""
    ranges = default_scale_ranges([l[0] for l in levels])
    locs = locations_for(levels)
    N = locs.shape[0]
    B = len(gts)
    lv = np.concatenate([np.full(h * w, li) for li, (s, h, w) in enumerate(levels)])
    st = np.array([levels[i][0] for i in lv], dtype=np.float64)
    lo = np.array([ranges[i][0] for i in lv], dtype=np.float64)
    hi = np.array([ranges[i][1] for i in lv], dtype=np.float64)
    labels = np.full(B * N, -1, dtype=np.int32)
    ltrb = np.ones((B * N, 4), dtype=np.float32)
    ctr = np.zeros(B * N, dtype=np.float32)
    gt_index = np.full(B * N, -1, dtype=np.int32)
    num_pos = 0
    x, y = locs[:, 0], locs[:, 1]
    for b, (boxes, labs) in enumerate(gts):
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).astype(np.float64)
        labs = np.asarray(labs).reshape(-1)
        for j, c in enumerate(labs):
            if not (float(c).is_integer() and 0 <= c < num_classes):
                raise ValueError(f"FCOS targets: image {b}, box {j} has class {c}, outside 0..{num_classes - 1}.")
        best = np.full(N, -1)
        best_area = np.full(N, math.inf)
        for j in range(len(labs)):
            if not valid_box(boxes[j]):
                continue
            x1, y1, x2, y2 = boxes[j]
            l, t, r, bb = x - x1, y - y1, x2 - x, y2 - y
            ok = np.minimum(np.minimum(l, t), np.minimum(r, bb)) > 0
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            rad = radius * st
            cx1 = np.maximum(cx - rad, x1)
            cy1 = np.maximum(cy - rad, y1)
            cx2 = np.minimum(cx + rad, x2)
            cy2 = np.minimum(cy + rad, y2)
            ok &= (x > cx1) & (x < cx2) & (y > cy1) & (y < cy2)
            m = np.maximum(np.maximum(l, t), np.maximum(r, bb))
            ok &= ~((m < lo) | (m > hi))
            area = (x2 - x1) * (y2 - y1)
            take = ok & (area < best_area)
            best[take] = j
            best_area[take] = area
        for k in np.nonzero(best >= 0)[0]:
            j = best[k]
            o = b * N + k
            x1, y1, x2, y2 = boxes[j]
            l, t, r, bb = x[k] - x1, y[k] - y1, x2 - x[k], y2 - y[k]
            labels[o] = labs[j]
            gt_index[o] = j
            ltrb[o] = [l, t, r, bb]
            ctr[o] = math.sqrt((min(l, r) / max(l, r)) * (min(t, bb) / max(t, bb)))
            num_pos += 1
    return {"batch": B, "numLocations": N, "levels": levels, "labels": labels, "ltrb": ltrb.reshape(-1), "centerness": ctr, "gtIndex": gt_index, "numPos": num_pos}


def write_rel_coords(x, y, s, mask_stride, mh, mw):
    soi = 8 * s
    py = np.arange(mh) * mask_stride + mask_stride // 2
    px = np.arange(mw) * mask_stride + mask_stride // 2
    dx = (x - px[None, :].repeat(mh, 0)) / soi
    dy = (y - py[:, None].repeat(mw, 1)) / soi
    return np.stack([dx, dy], -1).reshape(-1, 2).astype(np.float32)


def downsample_mask(mask, H, W, f):
    h, w = -(-H // f), -(-W // f)
    m = np.zeros((h * f, w * f), dtype=np.float64)
    m[:H, :W] = mask.reshape(H, W) != 0
    return (m.reshape(h, f, w, f).sum((1, 3)) / (f * f)).astype(np.float32).reshape(-1)


def build_condinst(fcos, masks, H, W, mask_stride, max_instances=64):
    N = fcos["numLocations"]
    cand = []
    for i in np.nonzero(fcos["gtIndex"] >= 0)[0]:
        b = i // N
        m = masks[b][fcos["gtIndex"][i]] if fcos["gtIndex"][i] < len(masks[b]) else None
        if m is None:
            continue
        if m.size != H * W:
            raise ValueError(f"CondInst targets: image {b} has a mask of {m.size} pixels, expected {H}×{W}.")
        cand.append(int(i))
    chosen = cand
    if len(cand) > max_instances:
        chosen = [cand[(q * len(cand)) // max_instances] for q in range(max_instances)]
    mh, mw = -(-H // mask_stride), -(-W // mask_stride)
    locs = locations_for(fcos["levels"])
    strides = location_strides(fcos["levels"])
    M = len(chosen)
    rel = np.zeros((M, mh * mw, 2), dtype=np.float32)
    gt = np.zeros((M, mh * mw), dtype=np.float32)
    cache = {}
    for q, i in enumerate(chosen):
        b, k = i // N, i % N
        g = int(fcos["gtIndex"][i])
        rel[q] = write_rel_coords(locs[k, 0], locs[k, 1], strides[k], mask_stride, mh, mw)
        key = (b, g)
        if key not in cache:
            cache[key] = downsample_mask(masks[b][g], H, W, mask_stride)
        gt[q] = cache[key]
    return {
        "count": M, "flatIndex": np.array(chosen, dtype=np.int64), "imageIndex": np.array([i // N for i in chosen], dtype=np.int64),
        "maskH": mh, "maskW": mw, "relCoords": rel, "gtMasks": gt,
    }


def semantic_from_instances(labels, masks, H, W):
    n = len(labels)
    out = np.zeros(H * W, dtype=np.uint8)
    if n == 0:
        return out
    if masks is None or len(masks) != n or any(m is None for m in masks):
        out[:] = IGNORE
        return out
    area = [int((m != 0).sum()) for m in masks]
    order = sorted(range(n), key=lambda i: -area[i])  # stable: JS sort is stable too
    for i in order:
        out[masks[i].reshape(-1) != 0] = labels[i] + 1
    return out


def prepare_targets(images, H, W, settings, tasks):
    """heads/multi-task.ts prepareTargets. images: dicts with boxes [n*4], labels [n], masks (list of H·W uint8 or
    None), semantic (H·W uint8 or None), classLabel."""
    out = {"batch": len(images), "imageSize": (H, W)}
    gts = [(np.asarray(im.get("boxes", []), dtype=np.float32), np.asarray(im.get("labels", []), dtype=np.int64)) for im in images]
    if "detect" in tasks:
        out["fcos"] = assign_fcos(gts, level_shapes(H, W, sorted(set(settings.get("detStrides", [8, 16, 32])))), settings["numClasses"])
    if "instance" in tasks:
        out["condinst"] = build_condinst(out["fcos"], [im.get("masks") or [] for im in images], H, W, settings.get("maskStride", 8), settings.get("maxMaskInstances", 64))
    if "semantic" in tasks:
        sem = []
        for b, im in enumerate(images):
            m = im.get("semantic")
            if m is None:
                m = semantic_from_instances(list(gts[b][1]), im.get("masks"), H, W)
            sem.append(np.asarray(m, dtype=np.uint8).reshape(-1))
        out["semantic"] = np.stack(sem)
    if "classify" in tasks:
        out["classLabels"] = np.array([im.get("classLabel", -1) for im in images], dtype=np.int64)
    return out
