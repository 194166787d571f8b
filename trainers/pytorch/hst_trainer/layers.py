"""Building blocks shared by the model and the heads, with the studio's numerics (src-main/core/model/layers.ts,
heads/layers/*.ts). Maps are NCHW here; the studio's are NHWC with the same values."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import dist_util


class BatchNorm(nn.Module):
    """BatchNorm over every axis but the channel axis (1) with only running_mean/running_var buffers, as the studio
    saves them (no num_batches_tracked). Training: biased batch variance normalises, the unbiased one updates the
    running stats (momentum 0.1). Under torch.distributed the batch statistics are those of the global batch
    (sum and sum of squares all-reduced, differentiably), so N processes × batch b train like one process × N·b."""

    def __init__(self, channels, eps, affine=True, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        if affine:
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))
        else:
            self.weight = None
            self.bias = None
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        axes = [0] + list(range(2, x.dim()))
        if not dist_util.is_distributed():
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, True, self.momentum, self.eps)
        n_local = x.numel() // x.shape[1]
        s = torch.cat([x.sum(axes), (x * x).sum(axes), x.new_tensor([float(n_local)])])
        s = dist_util.all_reduce_sum_grad(s)
        c = x.shape[1]
        n = s[2 * c]
        mean = s[:c] / n
        var = s[c:2 * c] / n - mean * mean
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.weight is not None:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        with torch.no_grad():
            nn_ = float(n.item())
            unbiased = var * (nn_ / (nn_ - 1)) if nn_ > 1 else var
            self.running_mean.mul_(1 - self.momentum).add_(mean.detach() * self.momentum)
            self.running_var.mul_(1 - self.momentum).add_(unbiased.detach() * self.momentum)
        return y


def gelu(x):
    return F.gelu(x)  # exact (erf) GELU, as the studio's 0.5·x·(1+erf(x/√2))


def drop_path(x, rate, training):
    if not training or rate <= 0:
        return x
    keep = 1 - rate
    mask = torch.floor(torch.rand([x.shape[0]] + [1] * (x.dim() - 1), dtype=x.dtype, device=x.device) + keep)
    return x * (mask / keep)


def resize_nearest(x, H, W):
    """heads/layers/resize.ts resizeNearest: repeat each pixel ⌈H/h⌉×⌈W/w⌉ times and crop (NCHW)."""
    h, w = x.shape[2], x.shape[3]
    if h == H and w == W:
        return x
    fy = -(-H // h)
    fx = -(-W // w)
    y = x.repeat_interleave(fy, dim=2).repeat_interleave(fx, dim=3)
    return y[:, :, :H, :W]


_bilinear_cache = {}


def bilinear_matrix(n_in, n_out, device, dtype):
    """Row-stochastic [out, in] interpolation matrix, align_corners=False (heads/layers/resize.ts)."""
    key = (n_in, n_out, str(device), dtype)
    m = _bilinear_cache.get(key)
    if m is None:
        a = np.zeros((n_out, n_in), dtype=np.float32)
        scale = n_in / n_out
        for o in range(n_out):
            src = max(0.0, (o + 0.5) * scale - 0.5)
            i0 = min(int(math.floor(src)), n_in - 1)
            i1 = min(i0 + 1, n_in - 1)
            lam = np.float32(src - i0)
            a[o, i0] += np.float32(1) - lam
            a[o, i1] += lam
        m = torch.from_numpy(a).to(device=device, dtype=dtype)
        _bilinear_cache[key] = m
    return m


def resize_bilinear(x, H, W):
    """Bilinear resize (NCHW) with half-pixel centres, as two matmuls (the studio's resizeBilinear)."""
    h, w = x.shape[2], x.shape[3]
    if h == H and w == W:
        return x
    mh = bilinear_matrix(h, H, x.device, x.dtype)
    mw = bilinear_matrix(w, W, x.device, x.dtype)
    y = torch.matmul(mh, x)  # [B,C,H,w]
    return torch.matmul(y, mw.t())  # [B,C,H,W]


def pick_groups(c, max_groups=32, min_per_group=4):
    for g in range(min(max_groups, c // min_per_group), 1, -1):
        if c % g == 0:
            return g
    return 1


class GroupNorm(nn.Module):
    def __init__(self, channels, groups, eps=1e-5):
        super().__init__()
        self.groups = groups
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return F.group_norm(x, self.groups, self.weight, self.bias, self.eps)


class ChannelLayerNorm(nn.Module):
    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


def make_norm(kind, channels, groups=None):
    if kind == "gn":
        return GroupNorm(channels, groups or pick_groups(channels))
    if kind == "ln":
        return ChannelLayerNorm(channels)
    return None


class Conv(nn.Conv2d):
    """'same' 3×3 or 1×1 convolution, stride 1, with bias (heads/layers/conv.ts)."""

    def __init__(self, cin, cout, k):
        super().__init__(cin, cout, k, padding=k // 2, bias=True)
