"""Trains a studio task model from a training bundle with torch.distributed (DDP).

Run from the bundle folder:
  torchrun --nproc_per_node N -m hst_trainer.train --steps 200 --out trained.safetensors
(gloo on CPU, NCCL on CUDA; `--batch` is per process, so the global batch is N·batch). The recipe is the studio's
full mode (training/trainer.ts, train-project.ts): AdamW (decay off for norms and biases), warm-up + cosine,
global-norm clipping at 1, the weights' moving average (saved as the result), checkpoints that resume exactly.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from . import dist_util
from .data import CocoSplit
from .optim import (WeightEma, build_adamw, clip_coefficient, global_norm, load_optimizer_state, optimizer_state,
                    set_lr, warmup_cosine_lr)
from .rng import Rng
from .st import read_safetensors, write_safetensors
from .targets import prepare_targets
from .task_model import TaskModel, save_task_model

ORIGIN = "pytorch (torchrun)"


def log(msg):
    if dist_util.rank() == 0:
        print(msg, flush=True)


def parse(argv):
    ap = argparse.ArgumentParser(prog="python -m hst_trainer.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", default=".", help="the training bundle folder (default: the current folder)")
    ap.add_argument("--steps", type=int, help="optimizer steps (default: the bundle's train.json)")
    ap.add_argument("--out", default="trained.safetensors", help="result file, studio names (default trained.safetensors)")
    ap.add_argument("--batch", type=int, help="images per process and step (default: the bundle's batch size)")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--checkpoint-dir", default=None, help="default <bundle>/checkpoints")
    ap.add_argument("--checkpoint-every", type=int)
    ap.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--no-ema", action="store_true", help="save the last weights instead of their moving average")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads per process")
    ap.add_argument("--log", default=None, help="per-step JSON lines (default <bundle>/train-log.jsonl)")
    ap.add_argument("--stop-after", type=int, default=None, help="stop (with a checkpoint) after this step; --resume continues")
    return ap.parse_args(argv)


def setup(device_arg):
    use_cuda = device_arg == "cuda" or (device_arg == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is visible")
    # under torchrun (even one process: one GPU is a valid DDP world) the process group is NCCL or gloo
    if "WORLD_SIZE" in os.environ and "MASTER_ADDR" in os.environ and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(dev)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    else:
        dev = torch.device("cpu")
    dist_util.DEVICE = dev
    return dev


def next_indices(cursor, n, count, data):
    out, order, order_epoch = [], None, -1
    for _ in range(count):
        epoch = cursor // n
        if epoch != order_epoch:
            order, order_epoch = data.epoch_order(epoch), epoch
        out.append(order[cursor % n])
        cursor += 1
    return out, cursor


def latest_checkpoint(d):
    p = os.path.join(d, "latest.json")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        name = json.load(f)["name"]
    full = os.path.join(d, name)
    return full if os.path.exists(os.path.join(full, "state.json")) else None


def save_checkpoint(d, model, opt, named, ema, state):
    os.makedirs(d, exist_ok=True)
    name = f"step-{state['step']:06d}"
    tmp = os.path.join(d, f".{name}.tmp")
    os.makedirs(tmp, exist_ok=True)
    write_safetensors(os.path.join(tmp, "model.safetensors"), {k: v.float() for k, v in model.named_state().items()}, {"format": "pt", "kind": "hst-task-model"})
    write_safetensors(os.path.join(tmp, "optimizer.safetensors"), optimizer_state(opt, named), {"kind": "adamw-state"})
    if ema is not None:
        write_safetensors(os.path.join(tmp, "ema.safetensors"), ema.state(), {"kind": "weight-ema"})
    with open(os.path.join(tmp, "state.json"), "w") as f:
        json.dump(state, f)
    final = os.path.join(d, name)
    if os.path.exists(final):
        import shutil
        shutil.rmtree(final)
    os.replace(tmp, final)
    with open(os.path.join(d, "latest.json.tmp"), "w") as f:
        json.dump({"name": name, "step": state["step"]}, f)
    os.replace(os.path.join(d, "latest.json.tmp"), os.path.join(d, "latest.json"))
    return final


def main(argv=None):
    a = parse(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = setup(a.device)
    world, rank = dist_util.world_size(), dist_util.rank()
    bundle = os.path.abspath(a.bundle)
    with open(os.path.join(bundle, "spec.json")) as f:
        spec = json.load(f)
    with open(os.path.join(bundle, "train.json")) as f:
        cfg = json.load(f)
    steps = a.steps or cfg["steps"]
    per_proc = a.batch or cfg["batchSize"]
    global_batch = per_proc * world
    lr = a.lr or cfg["lr"]
    seed = cfg.get("seed", 0)
    ckpt_dir = a.checkpoint_dir or os.path.join(bundle, "checkpoints")
    ckpt_every = a.checkpoint_every if a.checkpoint_every is not None else cfg.get("checkpointEvery", 50)
    warm = cfg.get("warmupSteps")
    warm = min(50, steps // 10) if warm is None else warm
    min_lr = cfg.get("minLr", lr / 100)
    clip = cfg.get("clipNorm", 1.0)
    ema_decay = 0 if a.no_ema else cfg.get("emaDecay", 0.999)
    torch.manual_seed(seed)

    model = TaskModel(spec).to(dev)
    w, _ = read_safetensors(os.path.join(bundle, "weights.safetensors"))
    model.load_named_state(w, os.path.join(bundle, "weights.safetensors"))
    model.set_trainable("full")
    model.train()
    named = model.optim_params("full")
    params = [p for _, p in named]
    opt = build_adamw(named, lr, cfg.get("weightDecay", 0.05), cfg.get("beta2", 0.999))
    ema = WeightEma(named, ema_decay) if ema_decay > 0 else None
    data = CocoSplit(os.path.join(bundle, "dataset", "train.json"), spec["classes"], spec["inputSize"], spec["norm"], seed,
                     cfg.get("augment"), image_class="sole-class" if "classify" in spec["heads"]["tasks"] else "none",
                     warn=lambda m: log(f"warning: {m}"))
    if len(data) == 0:
        raise SystemExit("the bundle's train split has no images")
    step, cursor, rng = 0, 0, Rng(seed, 0xA06)
    if a.resume:
        last = latest_checkpoint(ckpt_dir)
        if not last:
            raise SystemExit(f"--resume: no checkpoint under {ckpt_dir}")
        with open(os.path.join(last, "state.json")) as f:
            st = json.load(f)
        if st["globalBatch"] != global_batch:
            raise SystemExit(f"--resume: the checkpoint was trained with a global batch of {st['globalBatch']}, this run has {global_batch} ({world}×{per_proc}); use the same")
        m, _ = read_safetensors(os.path.join(last, "model.safetensors"))
        model.load_named_state(m, last)
        o, _ = read_safetensors(os.path.join(last, "optimizer.safetensors"))
        load_optimizer_state(opt, named, o)
        if ema is not None and os.path.exists(os.path.join(last, "ema.safetensors")):
            ema.load(read_safetensors(os.path.join(last, "ema.safetensors"))[0])
        step, cursor, rng = st["step"], st["cursor"], Rng.from_state(st["rng"])
        steps = a.steps or st["steps"]
        log(f"resuming from {last} (step {step})")
    ddp = torch.nn.parallel.DistributedDataParallel(model, broadcast_buffers=False, device_ids=[dev.index] if dev.type == "cuda" else None) if dist.is_initialized() else model
    log(f"training on {len(data)} images, {sum(p.numel() for p in params):,} trainable parameters, {world} process(es) × batch {per_proc} ({dist.get_backend() if dist.is_initialized() else 'no process group'}, {dev})")
    weights = spec["heads"].get("lossWeights") or {}
    mine = slice(rank * per_proc, (rank + 1) * per_proc)
    H = W = spec["inputSize"]
    t0 = time.time()
    images = 0
    log_path = (a.log or os.path.join(bundle, "train-log.jsonl")) if rank == 0 else None
    stop_at = min(steps, a.stop_after) if a.stop_after else steps
    while step < stop_at:
        cur_lr = warmup_cosine_lr(step, lr, steps, warm, lr / 100, min_lr)
        set_lr(opt, cur_lr)
        idx, cursor = next_indices(cursor, len(data), global_batch, data)
        samples = data.batch(idx, rng, mine)
        x = torch.from_numpy(np.stack([s["image"] for s in samples])).permute(0, 3, 1, 2).contiguous().to(dev)
        t = prepare_targets([s["targets"] for s in samples], H, W, spec["heads"], model.tasks)
        opt.zero_grad(set_to_none=True)
        parts = ddp(x, t)
        total = sum(v * weights.get(k, 1) for k, v in parts.items())
        total.backward()
        vals = torch.tensor([float(v.detach()) for v in parts.values()] + [float(total.detach())], dtype=torch.float64, device=dev)
        if world > 1:
            dist.all_reduce(vals)
            vals /= world
        logged = dict(zip(list(parts.keys()) + ["total"], vals.tolist()))
        norm = global_norm(params)
        if not (math.isfinite(logged["total"]) and math.isfinite(norm)):
            raise SystemExit(f"training stopped at step {step + 1}: the loss is not finite ({logged}); lower the learning rate or check the data")
        scale = clip_coefficient(norm, clip) if clip > 0 else 1.0
        if scale != 1.0:
            for p in params:
                if p.grad is not None:
                    p.grad.mul_(scale)
        opt.step()
        if ema is not None:
            ema.update()
        step += 1
        images += global_batch
        secs = time.time() - t0
        if rank == 0:
            rec = {"step": step, "totalSteps": steps, "seconds": round(secs, 4), "loss": logged["total"], "parts": {k: v for k, v in logged.items() if k != "total"}, "lr": cur_lr, "gradNorm": norm, "imagesPerSec": images / max(secs, 1e-6)}
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            if step % 10 == 0 or step == steps or step == 1:
                ps = ", ".join(f"{k} {v:.3f}" for k, v in rec["parts"].items())
                log(f"step {step}/{steps}  loss {rec['loss']:.4f} ({ps})  lr {cur_lr:.2e}  {rec['imagesPerSec']:.2f} img/s")
        if rank == 0 and (step == stop_at or (ckpt_every > 0 and step % ckpt_every == 0)):
            d = save_checkpoint(ckpt_dir, model, opt, named, ema, {"version": 1, "step": step, "steps": steps, "cursor": cursor, "rng": rng.get_state(), "globalBatch": global_batch, "world": world})
            log(f"checkpoint: {d}")
    if step < steps:
        log(f"stopped at step {step} of {steps}; continue with --resume")
        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()
        return
    if ema is not None:
        ema.copy_into_model()
    if rank == 0:
        out = a.out if os.path.isabs(a.out) else os.path.join(os.getcwd(), a.out)
        spec_out = dict(spec)
        spec_out["backbone"] = spec.get("backbone")
        meta = {"origin": ORIGIN, "trainer": f"hst_trainer {__import__('hst_trainer').__version__}, torch {torch.__version__}",
                "train": json.dumps({"steps": step, "world": world, "batchPerProcess": per_proc, "lr": lr, "device": str(dev), "seconds": round(time.time() - t0, 1), "ema": ema is not None})}
        if spec.get("backboneHash"):
            meta["backbone_hash"] = spec["backboneHash"]
        save_task_model(model.cpu() if dev.type != "cpu" else model, out, spec_out, meta)
        log(f"saved {out} ({step} steps, {time.time() - t0:.1f} s); import it with: hst-studio import-model PROJECT {os.path.basename(out)}")
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
