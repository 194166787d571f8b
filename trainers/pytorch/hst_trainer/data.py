"""The studio's training data pipeline (training/data/*.ts) over a training bundle's COCO files: decode (EXIF
orientation, shrink to what the largest zoom needs), instances (boxes, pycocotools polygons, RLE masks), seeded
augmentation (7 uniforms per sample: flip, zoom, placement, brightness, contrast, saturation), letterbox,
antialiased resampling, colour jitter + normalisation, targets (masks, tight boxes, semantic map), the
(seed, epoch) shuffles. Same formulas and RNG as the studio; decoding uses PIL where the studio uses sharp, so a
shrunk image can differ from the studio's by a grey level here and there."""
import json
import math
import os

import numpy as np
from PIL import Image, ImageOps

from .geometry import decode_rle, polygons_to_mask, rings_bbox
from .rng import Rng

DRAWS_PER_SAMPLE = 7
NO_AUGMENT = {"flipped": False, "zoom": 1.0, "placeX": 0.5, "placeY": 0.5, "brightness": 1.0, "contrast": 1.0, "saturation": 1.0}


def js_round(v):
    return math.floor(v + 0.5)


def augment_params(a, u):
    lo, hi = a["scaleJitter"]
    cj = a["colorJitter"]
    return {
        "flipped": u[0] < a["hflip"], "zoom": lo + (hi - lo) * u[1], "placeX": u[2], "placeY": u[3],
        "brightness": 1 + cj * (2 * u[4] - 1), "contrast": 1 + cj * (2 * u[5] - 1), "saturation": 1 + cj * (2 * u[6] - 1),
    }


def letterbox(orig_w, orig_h, H, W, p):
    scale = min(W / orig_w, H / orig_h) * p["zoom"]
    pad_x = js_round((W - orig_w * scale) * p["placeX"]) + 0
    pad_y = js_round((H - orig_h * scale) * p["placeY"]) + 0
    return {"origW": orig_w, "origH": orig_h, "scale": scale, "padX": pad_x, "padY": pad_y, "flipped": p["flipped"]}


def axis_matrix(n_out, n_src, orig_len, scale, pad, flipped):
    """resample.ts axisTaps as a dense [n_out, n_src] matrix (float32 weights) and the inside flags."""
    f = n_src / orig_len
    sup = max(1.0, f / scale)
    taps = math.ceil(2 * sup) + 1
    m = np.zeros((n_out, n_src), dtype=np.float64)
    inside = np.zeros(n_out, dtype=bool)
    for i in range(n_out):
        o = (i + 0.5 - pad) / scale
        if not (0 <= o < orig_len):
            continue
        if flipped:
            o = orig_len - o
        inside[i] = True
        c = o * f - 0.5
        j = math.ceil(c - sup)
        ws, idx = [], []
        while j <= c + sup and len(ws) < taps:
            wt = 1 - abs(j - c) / sup
            if wt > 0:
                ws.append(np.float32(wt))
                idx.append(min(max(j, 0), n_src - 1))
            j += 1
        tot = np.float32(sum(float(w) for w in ws))
        for jj, w in zip(idx, ws):
            m[i, jj] += float(np.float32(w / tot))
    return m, inside


def resample(base, t, H, W):
    """→ rgb [H, W, 3] float32 in [0, 1], inside [H, W] bool."""
    bh, bw = base.shape[:2]
    mx, ix = axis_matrix(W, bw, t["origW"], t["scale"], t["padX"], t["flipped"])
    my, iy = axis_matrix(H, bh, t["origH"], t["scale"], t["padY"], False)
    src = base.astype(np.float64)
    tmp = np.einsum("xs,rsc->rxc", mx, src)
    rgb = np.einsum("yr,rxc->yxc", my, tmp) / 255.0
    inside = iy[:, None] & ix[None, :]
    rgb[~inside] = 0
    return rgb.astype(np.float32), inside


def colour_and_normalise(rgb, inside, p, norm):
    mean = np.array(norm["mean"], dtype=np.float64)
    std = np.array(norm["std"], dtype=np.float64)
    x = rgb.astype(np.float64)
    if p["brightness"] != 1 or p["contrast"] != 1 or p["saturation"] != 1:
        grey_w = np.array([0.299, 0.587, 0.114])
        b, c, s = p["brightness"], p["contrast"], p["saturation"]
        mean_grey = 0.0
        if c != 1 and inside.any():
            mean_grey = float((np.clip(x[inside] * b, 0, 1) @ grey_w).mean())
        x = np.clip(x * b, 0, 1)
        x = np.clip((x - mean_grey) * c + mean_grey, 0, 1)
        g = (x @ grey_w)[..., None]
        x = np.clip(g + (x - g) * s, 0, 1)
    x = (x - mean) / std
    x[~inside] = 0
    return x.astype(np.float32)


def box_to_input(b, t):
    x1, x2 = b[0], b[2]
    if t["flipped"]:
        x1, x2 = t["origW"] - x2, t["origW"] - x1
    return [x1 * t["scale"] + t["padX"], b[1] * t["scale"] + t["padY"], x2 * t["scale"] + t["padX"], b[3] * t["scale"] + t["padY"]]


def transform_mask(crop, t, base_w, base_h, H, W):
    x0c, y0c, cw, ch, data = crop
    if cw == 0 or ch == 0:
        return None
    fx = base_w / t["origW"]
    fy = base_h / t["origH"]
    ex1, ey1, ex2, ey2 = box_to_input([x0c / fx, y0c / fy, (x0c + cw) / fx, (y0c + ch) / fy], t)
    xa, xb = max(0, math.floor(ex1) - 1), min(W, math.ceil(ex2) + 1)
    ya, yb = max(0, math.floor(ey1) - 1), min(H, math.ceil(ey2) + 1)
    if xa >= xb or ya >= yb:
        return None
    xs = np.arange(xa, xb)
    o = (xs + 0.5 - t["padX"]) / t["scale"]
    okx = (o >= 0) & (o < t["origW"])
    if t["flipped"]:
        o = t["origW"] - o
    col = np.floor(o * fx).astype(np.int64) - x0c
    okx &= (col >= 0) & (col < cw)
    ys = np.arange(ya, yb)
    oy = (ys + 0.5 - t["padY"]) / t["scale"]
    row = np.floor(oy * fy).astype(np.int64) - y0c
    oky = (row >= 0) & (row < ch) & (oy >= 0) & (oy < t["origH"])
    sub = np.zeros((yb - ya, xb - xa), dtype=np.uint8)
    if okx.any() and oky.any():
        sub[np.ix_(oky, okx)] = data[np.ix_(row[oky], col[okx])]
    count = int(sub.sum())
    if count == 0:
        return None
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[ya:yb, xa:xb] = sub
    yy, xx = np.nonzero(sub)
    box = [int(xx.min()) + xa, int(yy.min()) + ya, int(xx.max()) + xa + 1, int(yy.max()) + ya + 1]
    return mask.reshape(-1), count, box


def fill_box(m, W, H, b, v):
    x0 = max(0, math.ceil(b[0] - 0.5))
    x1 = min(W, math.ceil(b[2] - 0.5))
    y0 = max(0, math.ceil(b[1] - 0.5))
    y1 = min(H, math.ceil(b[3] - 0.5))
    if x1 > x0 and y1 > y0:
        m.reshape(H, W)[y0:y1, x0:x1] = v


def build_targets(instances, t, base_w, base_h, H, W, semantic, image_class, min_visible=1):
    boxes, labels, masks, areas, ignore = [], [], [], [], []
    for inst in instances:
        if inst["mask"] is not None:
            r = transform_mask(inst["mask"], t, base_w, base_h, H, W)
            if r is None or r[1] < min_visible:
                continue
            if inst["crowd"]:
                ignore.append((None, r[0]))
                continue
            boxes.append(r[2])
            labels.append(inst["label"])
            masks.append(r[0])
            areas.append(r[1])
        else:
            b = box_to_input(inst["box"], t)
            x1, y1, x2, y2 = max(0, b[0]), max(0, b[1]), min(W, b[2]), min(H, b[3])
            if not (x2 - x1 >= min_visible and y2 - y1 >= min_visible):
                continue
            if inst["crowd"]:
                ignore.append(([x1, y1, x2, y2], None))
                continue
            boxes.append([x1, y1, x2, y2])
            labels.append(inst["label"])
            masks.append(None)
            areas.append((x2 - x1) * (y2 - y1))
    sem = None
    if semantic:
        sem = np.zeros(H * W, dtype=np.uint8)
        for i, m in enumerate(masks):
            if m is None:
                fill_box(sem, W, H, boxes[i], 255)
        for b, m in ignore:
            if b is not None:
                fill_box(sem, W, H, b, 255)
            else:
                sem[m != 0] = 255
        order = sorted([i for i in range(len(masks)) if masks[i] is not None], key=lambda i: (-areas[i], i))
        for i in order:
            sem[masks[i] != 0] = labels[i] + 1
    return {
        "boxes": np.array(boxes, dtype=np.float32).reshape(-1), "labels": np.array(labels, dtype=np.int64),
        "masks": masks, "semantic": sem, "classLabel": image_class,
    }


def crop_mask(full):
    ys, xs = np.nonzero(full)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    return (x0, y0, x1 - x0 + 1, y1 - y0 + 1, full[y0:y1 + 1, x0:x1 + 1].copy())


def downsample_nearest(src, dw, dh):
    sh, sw = src.shape
    col = np.minimum(sw - 1, np.floor((np.arange(dw) + 0.5) * sw / dw).astype(np.int64))
    row = np.minimum(sh - 1, np.floor((np.arange(dh) + 0.5) * sh / dh).astype(np.int64))
    return src[np.ix_(row, col)]


def clip_box(b, ow, oh):
    x1, y1, x2, y2 = max(0, b[0]), max(0, b[1]), min(ow, b[2]), min(oh, b[3])
    return [x1, y1, x2, y2] if x2 > x1 and y2 > y1 else None


def prepare_instances(anns, class_index, ow, oh, bw, bh, warn):
    """instances.ts prepareInstances over COCO annotations."""
    out = []
    for a in anns:
        label = class_index.get(a["_class"])
        if label is None:
            warn(f"annotation {a.get('id')}: class '{a['_class']}' is not among the training classes, skipped")
            continue
        seg = a.get("segmentation")
        crowd = bool(a.get("iscrowd", 0))
        if isinstance(seg, dict):
            h, w = seg["size"]
            if h != oh or w != ow:
                warn(f"annotation {a.get('id')}: mask of size {w}×{h} differs from the {ow}×{oh} image, skipped")
                continue
            full = decode_rle(seg)
            ys, xs = np.nonzero(full)
            if len(xs) == 0:
                continue
            box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
            base = full if (bw, bh) == (w, h) else downsample_nearest(full, bw, bh)
            crop = crop_mask(base) or (0, 0, 0, 0, np.zeros((0, 0), np.uint8))
            out.append({"label": label, "box": box, "mask": crop, "crowd": crowd})
        elif isinstance(seg, list) and len(seg) > 0:
            rings = [r for r in seg if len(r) >= 6 and len(r) % 2 == 0 and all(math.isfinite(v) for v in r)]
            if not rings:
                continue
            sx, sy = bw / ow, bh / oh
            scaled = rings if sx == 1 and sy == 1 else [[v * (sx if i % 2 == 0 else sy) for i, v in enumerate(r)] for r in rings]
            full = polygons_to_mask(scaled, bh, bw)
            bx, by, bww, bhh = rings_bbox(rings)
            box = clip_box([bx, by, bx + bww, by + bhh], ow, oh)
            crop = crop_mask(full)
            if box is None or crop is None:
                continue
            out.append({"label": label, "box": box, "mask": crop, "crowd": crowd})
        else:
            x, y, w, h = a["bbox"]
            if not (w > 0 and h > 0):
                continue
            box = clip_box([x, y, x + w, y + h], ow, oh)
            if box is None:
                continue
            out.append({"label": label, "box": box, "mask": None, "crowd": crowd})
    return out


def decode_image(path, fit_w, fit_h):
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        ow, oh = im.size
        f = min(1.0, fit_w / ow, fit_h / oh)
        if f < 1:
            im = im.resize((max(1, js_round(ow * f)), max(1, js_round(oh * f))), Image.LANCZOS)
        return np.asarray(im, dtype=np.uint8).copy(), ow, oh


class CocoSplit:
    """One split of a bundle (dataset/<split>.json + dataset/images/), the studio's DataPipeline."""

    def __init__(self, json_path, classes, size, norm, seed, augment, semantic=None, image_class="none", warn=print):
        with open(json_path) as f:
            coco = json.load(f)
        self.root = os.path.dirname(os.path.abspath(json_path))
        cat = {c["id"]: c["name"] for c in coco["categories"]}
        self.class_index = {n: i for i, n in enumerate(classes)}
        self.images = coco["images"]
        self.anns = {}
        for a in coco["annotations"]:
            a = dict(a)
            a["_class"] = cat.get(a["category_id"], f"#{a['category_id']}")
            self.anns.setdefault(a["image_id"], []).append(a)
        self.H = self.W = size
        self.norm = norm
        self.seed = seed
        self.augment = augment
        if semantic is None:
            semantic = any(a.get("segmentation") for a in coco["annotations"])
        self.semantic = semantic
        self.image_class = image_class
        self.warn = warn
        self.max_zoom = augment["scaleJitter"][1] if augment else 1.0
        self.cache = {}

    def __len__(self):
        return len(self.images)

    def epoch_order(self, epoch):
        return Rng(self.seed, 0xE90C, epoch).shuffle(list(range(len(self.images))))

    def _load(self, index):
        hit = self.cache.get(index)
        if hit is not None:
            return hit
        im = self.images[index]
        base, ow, oh = decode_image(os.path.join(self.root, "images", im["file_name"]), math.ceil(self.W * self.max_zoom), math.ceil(self.H * self.max_zoom))
        bh, bw = base.shape[:2]
        insts = prepare_instances(self.anns.get(im["id"], []), self.class_index, ow, oh, bw, bh, lambda m: self.warn(f"image '{im['file_name']}' {m}"))
        ic = -1
        if self.image_class == "sole-class":
            cls = {i["label"] for i in insts if not i["crowd"]}
            if len(cls) == 1:
                ic = next(iter(cls))
        prep = (base, ow, oh, insts, ic)
        self.cache[index] = prep
        return prep

    def build(self, index, p):
        base, ow, oh, insts, ic = self._load(index)
        t = letterbox(ow, oh, self.H, self.W, p)
        rgb, inside = resample(base, t, self.H, self.W)
        img = colour_and_normalise(rgb, inside, p, self.norm)
        targets = build_targets(insts, t, base.shape[1], base.shape[0], self.H, self.W, self.semantic, ic)
        return {"image": img, "targets": targets, "transform": t, "index": index}

    def batch(self, indices, rng, part=None):
        """Draws the augmentation of every sample of the (global) batch, in order, then builds `part` (a slice:
        this process's share) or all of them: N processes × b see exactly the samples of one process × N·b."""
        draws = [[rng.next() for _ in range(DRAWS_PER_SAMPLE)] for _ in indices]
        pairs = list(zip(indices, draws))
        if part is not None:
            pairs = pairs[part]
        return [self.build(i, augment_params(self.augment, u) if self.augment else NO_AUGMENT) for i, u in pairs]
