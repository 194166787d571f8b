"""Optimizer, schedule, clipping and the weights' moving average as the studio defines them
(training/optim/adamw.ts, schedule.ts, clip.ts, ema.ts; defaults from training/trainer.ts and train-project.ts)."""
import math

import torch


def default_decay(name, shape):
    """timm's rule (adamw.ts defaultDecay): no decay for tensors of rank ≤ 1 or names ending in '.bias'."""
    return len(shape) > 1 and not name.endswith(".bias")


def build_adamw(named_params, lr, weight_decay=0.05, beta2=0.999, eps=1e-8):
    """torch.optim.AdamW (foreach off: the studio's per-tensor update order) with the decay rule as groups."""
    decay = [p for n, p in named_params if default_decay(n, p.shape)]
    no_decay = [p for n, p in named_params if not default_decay(n, p.shape)]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, beta2), eps=eps, foreach=False)


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


def warmup_cosine_lr(step, base_lr, total_steps, warmup_steps=0, warmup_init_lr=0.0, min_lr=0.0):
    if step < warmup_steps:
        return warmup_init_lr + (base_lr - warmup_init_lr) * step / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))


def global_norm(params):
    """√(Σ g²) summed in float64 (clip.ts globalNorm)."""
    s = 0.0
    for p in params:
        if p.grad is not None:
            s += float(p.grad.detach().double().pow(2).sum().item())
    return math.sqrt(s)


def clip_coefficient(norm, max_norm):
    return min(1.0, max_norm / (norm + 1e-6))


class WeightEma:
    """ema.ts: decay d_t = min(decay, (1+t)/(10+t)); shadow ← d·shadow + (1−d)·param after each step."""

    def __init__(self, named_params, decay=0.999):
        self.params = named_params
        self.decay = decay
        self.updates = 0
        self.shadow = [p.detach().clone() for _, p in named_params]

    def update(self):
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        with torch.no_grad():
            for s, (_, p) in zip(self.shadow, self.params):
                s.mul_(d).add_(p.detach() * (1 - d))

    def copy_into_model(self):
        with torch.no_grad():
            for s, (_, p) in zip(self.shadow, self.params):
                p.copy_(s)

    def state(self):
        out = {"ema.updates": torch.tensor([float(self.updates)])}
        for s, (n, _) in zip(self.shadow, self.params):
            out[f"ema.{n}"] = s.detach().cpu()
        return out

    def load(self, tensors):
        self.updates = int(round(float(tensors["ema.updates"][0])))
        with torch.no_grad():
            for s, (n, _) in zip(self.shadow, self.params):
                s.copy_(tensors[f"ema.{n}"])


def optimizer_state(opt, named_params):
    """The studio's names: optim.step, optim.exp_avg.<name>, optim.exp_avg_sq.<name> (torch layouts here)."""
    out = {}
    step = 0
    for n, p in named_params:
        st = opt.state.get(p, {})
        if "exp_avg" in st:
            out[f"optim.exp_avg.{n}"] = st["exp_avg"].detach().cpu()
            out[f"optim.exp_avg_sq.{n}"] = st["exp_avg_sq"].detach().cpu()
            step = int(float(st["step"]))
    out["optim.step"] = torch.tensor(step, dtype=torch.int32)
    return out


def load_optimizer_state(opt, named_params, tensors):
    step = int(tensors["optim.step"].item())
    for n, p in named_params:
        key = f"optim.exp_avg.{n}"
        if key not in tensors:
            if step == 0:
                continue
            raise ValueError(f"optimizer state is missing {key}")
        opt.state[p] = {
            "step": torch.tensor(float(step)),
            "exp_avg": tensors[key].to(p.device, p.dtype).clone(),
            "exp_avg_sq": tensors[f"optim.exp_avg_sq.{n}"].to(p.device, p.dtype).clone(),
        }
