"""The PyTorch side of the studio's parity tests (test/trainers/pytorch-parity.test.ts): given a task model, an
input batch and targets, writes (1) the raw outputs in eval mode, (2) the loss parts of one training forward,
(3) the weights, buffers and AdamW moments after one optimizer step (clipping and AdamW as the studio's trainer).

  python3 -m hst_trainer.parity --weights M.safetensors --spec M.json --inputs IN.safetensors --targets T.json
                                --lr 0.001 --beta2 0.999 --out OUT.safetensors
"""
import argparse
import json

import numpy as np
import torch

from .losses import task_losses, weighted_total
from .optim import build_adamw, clip_coefficient, global_norm
from .st import read_safetensors, write_safetensors
from .targets import prepare_targets
from .task_model import TaskModel, load_spec


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


def raw_outputs(model, x):
    """runtime/raw-outputs.ts, with the studio's shapes (maps NHWC)."""
    stages = model(x)
    r = {f"stage{i + 1}": nhwc(s) for i, s in enumerate(stages)}
    h = model.heads
    levels = h.fpn(stages) if h.fpn is not None else {}
    if h.det is not None:
        o = h.det(levels)
        r["det_cls"], r["det_box"], r["det_ctr"] = o["cls"], o["box"], o["ctr"]
        if h.mask is not None:
            m = h.mask(levels, o)
            r["mask_feats"] = nhwc(m["mask_feats"])
            r["mask_params"] = m["params"]
    if h.sem is not None:
        r["sem_logits"] = nhwc(h.sem(levels))
    if model.cls is not None:
        r["cls_logits"] = model.cls(stages[3])
    return r


def images_from_json(tj, H, W):
    images = []
    for im in tj["images"]:
        masks = None
        if im.get("masks") is not None:
            masks = [None if m is None else np.array(m, dtype=np.uint8) for m in im["masks"]]
        images.append({
            "boxes": np.array(im.get("boxes", []), dtype=np.float32), "labels": np.array(im.get("labels", []), dtype=np.int64),
            "masks": masks, "semantic": None if im.get("semantic") is None else np.array(im["semantic"], dtype=np.uint8),
            "classLabel": im.get("classLabel", -1),
        })
    return images


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    torch.manual_seed(0)
    spec = load_spec(a.spec)
    model = TaskModel(spec)
    w, _ = read_safetensors(a.weights)
    model.load_named_state(w, a.weights)
    inp, _ = read_safetensors(a.inputs)
    x = inp["x"].permute(0, 3, 1, 2).contiguous()
    H, W = x.shape[2], x.shape[3]
    out = {}
    model.eval()
    with torch.no_grad():
        for k, v in raw_outputs(model, x).items():
            out[f"raw.{k}"] = v
    with open(a.targets) as f:
        tj = json.load(f)
    t = prepare_targets(images_from_json(tj, H, W), H, W, spec["heads"], model.tasks)
    model.train()
    model.set_trainable("full")
    named = model.optim_params("full")
    opt = build_adamw(named, a.lr, a.weight_decay, a.beta2)
    parts = task_losses(model, model(x), t)
    total = weighted_total(parts, spec["heads"].get("lossWeights"))
    total.backward()
    for k, v in parts.items():
        out[f"loss.{k}"] = v.detach().reshape(1)
    out["loss.total"] = total.detach().reshape(1)
    params = [p for _, p in named]
    norm = global_norm(params)
    out["grad_norm"] = torch.tensor([norm], dtype=torch.float64)
    for n, p in named:
        if p.grad is not None:
            out[f"grad.{n}"] = p.grad.detach().clone()
    scale = clip_coefficient(norm, a.clip) if a.clip > 0 else 1.0
    for p in params:
        if p.grad is not None:
            p.grad.mul_(scale)
    opt.step()
    for k, v in model.named_state().items():
        out[f"after.{k}"] = v.detach()
    write_safetensors(a.out, out, {"kind": "hst-trainer-parity"})


if __name__ == "__main__":
    main()
