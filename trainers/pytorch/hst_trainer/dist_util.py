"""torch.distributed helpers: world info, a differentiable all-reduce, global normalisers for the losses."""
import torch
import torch.distributed as dist

# NCCL reduces CUDA tensors only: train.py sets this to the process's device
DEVICE = torch.device("cpu")


def is_distributed():
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size():
    return dist.get_world_size() if is_distributed() else 1


def rank():
    return dist.get_rank() if is_distributed() else 0


def all_reduce_sum_grad(t):
    """Sum over processes with a gradient (its backward all-reduces the gradient)."""
    if not is_distributed():
        return t
    from torch.distributed.nn.functional import all_reduce
    return all_reduce(t)


def global_sum(value):
    """A float summed over processes (no gradient): the losses' normalisers (#positives, Σ centerness, …)."""
    if not is_distributed():
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=DEVICE)
    dist.all_reduce(t)
    return float(t.item())
