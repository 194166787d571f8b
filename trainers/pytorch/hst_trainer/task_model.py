"""HST + task heads as one module (the studio's training/task-model.ts) and its flat PyTorch state with the
studio's safetensors names: the HST's official names, `heads.*`, and `fc_norm.*`/`head.*` for classification."""
import json

import torch
import torch.nn as nn

from .heads import ClassifyHead, MultiTaskHeads
from .hst import HST, is_trainable_name
from .st import read_safetensors, write_safetensors


class TaskModel(nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        hst_cfg = dict(spec["hst"])
        hst_cfg["num_classes"] = 0
        self.hst = HST(hst_cfg)
        settings = spec["heads"]
        self.heads = MultiTaskHeads(self.hst.cfg["m_embed_dims"], settings)
        self.cls = ClassifyHead(self.hst.cfg["m_embed_dims"][3], settings["numClasses"]) if "classify" in settings["tasks"] else None
        self.tasks = self.heads.tasks | ({"classify"} if self.cls is not None else set())

    def forward(self, x, targets=None):
        """x NCHW → stage maps; with prepared targets → the unweighted loss parts (what DDP wraps)."""
        stages = self.hst(x)
        if targets is None:
            return stages
        from .losses import task_losses
        return task_losses(self, stages, targets)

    # names: module path → studio name
    @staticmethod
    def studio_name(path):
        if path.startswith("hst."):
            return path[4:]
        if path.startswith("cls."):
            return path[4:]
        return path

    def named_state(self):
        """Every parameter and buffer under its studio (safetensors) name."""
        return {self.studio_name(k): v for k, v in self.state_dict().items()}

    def optim_params(self, mode="full"):
        """(studio name, parameter) of what the optimizer updates: the HST's trainable set and every head weight
        (task-model.ts optimParams; 'fast' leaves out the Meta Tokens and ViT LayerNorms, incremental/fast-step.ts)."""
        out = []
        for k, p in self.named_parameters():
            n = self.studio_name(k)
            if k.startswith("hst."):
                if not is_trainable_name(n):
                    continue
                if mode == "fast" and (n.startswith("m_embeddings.") or n.startswith("blocks.")):
                    continue
            out.append((n, p))
        return out

    def set_trainable(self, mode="full"):
        keep = {id(p) for _, p in self.optim_params(mode)}
        for p in self.parameters():
            p.requires_grad_(id(p) in keep)

    def load_named_state(self, tensors, source="checkpoint"):
        """Loads a studio state; every name and shape is checked before anything is assigned (errors name them)."""
        own = self.named_state()
        missing = [k for k in own if k not in tensors]
        unexpected = [k for k in tensors if k not in own and not k.endswith("num_batches_tracked")]
        if missing:
            raise ValueError(f"{source}: missing tensor(s) {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''} (were the tasks or head settings changed?)")
        if unexpected:
            raise ValueError(f"{source}: unexpected tensor(s) {', '.join(unexpected[:5])}{' …' if len(unexpected) > 5 else ''}")
        for k, v in own.items():
            if tuple(tensors[k].shape) != tuple(v.shape):
                raise ValueError(f"{source}: tensor '{k}' has shape {list(tensors[k].shape)}, the model expects {list(v.shape)}")
        with torch.no_grad():
            for k, v in own.items():
                v.copy_(tensors[k].to(v.dtype))


def load_spec(path):
    with open(path) as f:
        spec = json.load(f)
    if spec.get("format") != "hst-studio-task-model":
        raise ValueError(f"{path}: not an HST Studio task model spec")
    return spec


def load_task_model(weights, spec=None):
    tensors, meta = read_safetensors(weights)
    if spec is None:
        if "task_model" not in meta:
            raise ValueError(f"{weights}: no task_model metadata and no spec given")
        spec = json.loads(meta["task_model"])
    model = TaskModel(spec)
    model.load_named_state(tensors, weights)
    return model, spec, meta


def save_task_model(model, path, spec, extra_meta=None):
    meta = {"format": "pt", "layout": "PyTorch state_dict: Linear (out,in), Conv (out,in,kh,kw)", "task_model": json.dumps(spec)}
    meta.update(extra_meta or {})
    write_safetensors(path, {k: v.float() for k, v in model.named_state().items()}, meta)
