"""Writes the data pipeline's samples for given indices (the studio's data parity test):
  python3 -m hst_trainer.dump_samples --coco dataset/train.json --spec spec.json --train train.json --indices 0,1,2 --out S.safetensors
Per sample i: s{i}.image [H,W,3], s{i}.boxes, s{i}.labels, s{i}.masks [n,H,W] (box-only: all 255), s{i}.semantic, s{i}.transform
(origW, origH, scale, padX, padY, flipped); the uniforms come from Rng(seed, 0xA06) as in the trainer."""
import argparse
import json

import numpy as np

from .data import CocoSplit
from .rng import Rng
from .st import write_safetensors


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--coco", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--indices", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    spec = json.load(open(a.spec))
    cfg = json.load(open(a.train))
    data = CocoSplit(a.coco, spec["classes"], spec["inputSize"], spec["norm"], cfg["seed"], cfg["augment"])
    idx = [int(v) for v in a.indices.split(",")]
    samples = data.batch(idx, Rng(cfg["seed"], 0xA06))
    out = {}
    H = W = spec["inputSize"]
    for i, s in enumerate(samples):
        t = s["targets"]
        out[f"s{i}.image"] = s["image"]
        out[f"s{i}.boxes"] = t["boxes"].astype(np.float32)
        out[f"s{i}.labels"] = t["labels"].astype(np.int32)
        out[f"s{i}.masks"] = np.stack([m.reshape(H, W) if m is not None else np.full((H, W), 255, np.uint8) for m in t["masks"]]) if t["masks"] else np.zeros((0, H, W), np.uint8)
        if t["semantic"] is not None:
            out[f"s{i}.semantic"] = t["semantic"].reshape(H, W)
        tr = s["transform"]
        out[f"s{i}.transform"] = np.array([tr["origW"], tr["origH"], tr["scale"], tr["padX"], tr["padY"], 1.0 if tr["flipped"] else 0.0], dtype=np.float64)
    write_safetensors(a.out, out, {"kind": "hst-trainer-samples"})


if __name__ == "__main__":
    main()
