"""HST (hst-spec.md; the studio's src-main/core/model/*.ts): a frozen timm ViT run with per-layer Meta Tokens, the
Hierarchical Side Network (conv stem, 4 stages of side blocks fed by the Adaptive Feature Bridges, stage norms).
Parameter names and layouts are the authors' state_dict names (spec §3.8). Input NCHW, normalised."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import BatchNorm, drop_path, gelu


def resolve_config(cfg):
    """model/config.ts resolveHstConfig: defaults and the stage ↔ ViT-layer mapping."""
    c = {
        "img_size": 224, "patch_size": 16, "in_chans": 3, "embed_dim": 768, "depth": 12, "num_heads": 12,
        "mlp_ratio": 4, "qkv_bias": True, "num_classes": 0, "m_embed_dims": [32, 48, 64, 72],
        "m_c_num_heads": [2, 4, 8, 12], "m_mlp_ratio": 4, "metaG_num": 1, "num_stages": 4,
        "drop_path_rate": 0.0, "vit_norm_eps": 1e-6, "layer_scale": False,
    }
    c.update({k: v for k, v in cfg.items() if v is not None})
    idx = c.get("block_indices")
    if not idx:
        q = c["depth"] // 4
        idx = [q - 1, 2 * q - 1, 3 * q - 1, 4 * q - 1]
    layers, prev = [], -1
    for last in idx:
        layers.append(list(range(prev + 1, last + 1)))
        prev = last
    if prev != c["depth"] - 1:
        raise ValueError(f"block_indices {idx} do not end at the last ViT block {c['depth'] - 1}")
    c["block_indices"] = idx
    c["stage_layers"] = layers
    c["m_depths"] = [len(l) for l in layers]
    return c


def _cubic_aa(x):
    a = -0.5
    x = abs(x)
    if x < 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def aa_bicubic_weights(n_in, n_out):
    """model/pos-embed-interp.ts aaBicubicWeights (timm's bicubic antialiased resample), float64 [out, in]."""
    m = np.zeros((n_out, n_in), dtype=np.float64)
    scale = n_in / n_out
    support = 2 * scale if scale >= 1 else 2.0
    invscale = 1 / scale if scale >= 1 else 1.0
    for i in range(n_out):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), n_in)
        ws = [_cubic_aa((j - center + 0.5) * invscale) for j in range(xmin, xmax)]
        total = sum(ws)
        for j, w in zip(range(xmin, xmax), ws):
            m[i, j] = w / total if total != 0 else 0
    return m


def resample_pos_embed(pe, grid_in, grid_out):
    """pe [1, 1+gi·gi, D] → [1, 1+h·w, D], horizontal pass first, accumulated in float64 (as the studio)."""
    gi = grid_in
    h, w = grid_out
    if gi == h and gi == w:
        return pe
    d = pe.shape[-1]
    src = pe[0, 1:].detach().double().cpu().numpy().reshape(gi, gi, d)
    wh = aa_bicubic_weights(gi, h)
    ww = aa_bicubic_weights(gi, w)
    tmp = np.einsum("ox,yxd->yod", ww, src)
    out = np.einsum("oy,yxd->oxd", wh, tmp).reshape(h * w, d)
    res = torch.from_numpy(out.astype(np.float32)).to(pe.device)
    return torch.cat([pe[:, :1].detach(), res[None]], 1)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(gelu(self.fc1(x)))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        hd = d // h
        q, k, v = self.qkv(x).reshape(b, t, 3, h, hd).permute(2, 0, 3, 1, 4)
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (1 / math.sqrt(hd)), -1)
        return self.proj(torch.matmul(att, v).transpose(1, 2).reshape(b, t, d))


class LayerScale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), 1e-5))

    def forward(self, x):
        return x * self.gamma


class VitBlock(nn.Module):
    def __init__(self, dim, heads, hidden, eps, layer_scale):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, hidden)
        if layer_scale:
            self.ls1 = LayerScale(dim)
            self.ls2 = LayerScale(dim)
        else:
            self.ls1 = self.ls2 = None

    def forward(self, x, rate):
        a = self.attn(self.norm1(x))
        if self.ls1 is not None:
            a = self.ls1(a)
        x = x + drop_path(a, rate, self.training)
        m = self.mlp(self.norm2(x))
        if self.ls2 is not None:
            m = self.ls2(m)
        return x + drop_path(m, rate, self.training)


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)


class StemSeq(nn.Sequential):
    pass


class ConvStem(nn.Module):
    """m_patch_embed1: conv3×3/s2 pad 1 (no bias) → BN (1e-5) → ReLU → conv2×2/s2 → tokens → LN (1e-5)."""

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, c, 3, 2, 1, bias=False), BatchNorm(c, 1e-5), nn.ReLU(), nn.Conv2d(c, c, 2, 2))
        self.norm = nn.LayerNorm(c, eps=1e-5)

    def forward(self, x):
        y = self.conv(x)
        h, w = y.shape[2], y.shape[3]
        return self.norm(y.flatten(2).transpose(1, 2)), h, w


class Downsampler(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, 3, 2, 1)
        self.norm = nn.LayerNorm(cout, eps=1e-5)

    def forward(self, tokens, h, w):
        b, n, c = tokens.shape
        y = self.proj(tokens.transpose(1, 2).reshape(b, c, h, w))
        h2, w2 = y.shape[2], y.shape[3]
        return self.norm(y.flatten(2).transpose(1, 2)), h2, w2


class CrossAttn(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(c, c)
        self.k = nn.Linear(c, c)
        self.v = nn.Linear(c, c)
        self.proj = nn.Linear(c, c)

    def forward(self, x, kv):
        # softmax over the 2 bridge tokens = σ(s0 − s1), the studio's form (side-block.ts)
        b, n, c = x.shape
        h = self.heads
        hd = c // h
        q = self.q(x)
        k = self.k(kv)
        v = self.v(kv)
        k0, k1 = k[:, :1], k[:, 1:2]
        v0, v1 = v[:, :1], v[:, 1:2]
        diff = (q * (k0 - k1)).reshape(b, n, h, hd).sum(-1) * (1 / math.sqrt(hd))  # [B,N,h]
        a0 = torch.sigmoid(diff).repeat_interleave(hd, dim=2)  # [B,N,C]
        return self.proj(v1 + a0 * (v0 - v1))


class SideBlock(nn.Module):
    def __init__(self, c, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(c, eps=1e-6)
        self.attn = CrossAttn(c, heads)
        self.norm2 = nn.LayerNorm(c, eps=1e-6)
        self.mlp = Mlp(c, int(round(c * mlp_ratio)))

    def forward(self, x, kv, fine, rate):
        x1 = x + drop_path(self.attn(self.norm1(x), kv), rate, self.training)
        x2 = x1 + fine
        return x2 + drop_path(self.mlp(self.norm2(x2)), rate, self.training)


class HST(nn.Module):
    """ViT_HSN without its classification head (the studio's HstModel with num_classes 0; classification is a
    task head). forward(x NCHW) → 4 stage maps NCHW."""

    def __init__(self, cfg):
        super().__init__()
        c = self.cfg = resolve_config(cfg)
        d = c["embed_dim"]
        g = c["img_size"] // c["patch_size"]
        self.grid = g
        self.patch_embed = PatchEmbed(d, c["patch_size"])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + g * g, d))
        hidden = int(round(d * c["mlp_ratio"]))
        self.blocks = nn.ModuleList([VitBlock(d, c["num_heads"], hidden, c["vit_norm_eps"], c["layer_scale"]) for _ in range(c["depth"])])
        self.norm = nn.LayerNorm(d, eps=c["vit_norm_eps"])
        self.m_embeddings = nn.ParameterList([nn.Parameter(torch.zeros(1, 1, d)) for _ in range(c["depth"])])
        dims = c["m_embed_dims"]
        self.m_patch_embed1 = ConvStem(dims[0])
        for s in range(1, 4):
            setattr(self, f"m_patch_embed{s + 1}", Downsampler(dims[s - 1], dims[s]))
        for s in range(4):
            setattr(self, f"m_block{s + 1}", nn.ModuleList([SideBlock(dims[s], c["m_c_num_heads"][s], c["m_mlp_ratio"]) for _ in range(c["m_depths"][s])]))
            setattr(self, f"m_norm{s + 1}", nn.LayerNorm(dims[s], eps=1e-6))
            setattr(self, f"T_Bridge_{s + 1}", nn.Linear(d, dims[s]))
            for l in c["stage_layers"][s]:
                setattr(self, f"m_proj_norm{l + 1}", nn.LayerNorm(dims[s], eps=1e-5))
        self._pos_cache = None

    def pos_embed_for(self, h, w):
        if h == self.grid and w == self.grid:
            return self.pos_embed
        key = (h, w, self.pos_embed._version, self.pos_embed.data_ptr())
        if self._pos_cache is None or self._pos_cache[0] != key:
            self._pos_cache = (key, resample_pos_embed(self.pos_embed, self.grid, (h, w)))
        return self._pos_cache[1]

    def vit_forward(self, x):
        c = self.cfg
        p = c["patch_size"]
        b, _, H, W = x.shape
        if H % p or W % p:
            raise ValueError(f"input {H}×{W} is not a multiple of the patch size {p}")
        h, w = H // p, W // p
        d = c["embed_dim"]
        pe = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        cur = torch.cat([self.cls_token.expand(b, 1, d), pe], 1) + self.pos_embed_for(h, w)
        metas, patches = [], []
        depth = c["depth"]
        for l, blk in enumerate(self.blocks):
            rate = c["drop_path_rate"] * l / (depth - 1) if depth > 1 else 0.0
            y = blk(torch.cat([self.m_embeddings[l].expand(b, 1, d), cur], 1), rate)
            metas.append(y[:, :1])
            patches.append(y[:, 2:].transpose(1, 2).reshape(b, d, h, w))
            cur = y[:, 1:]
        return metas, patches

    def side_forward(self, x, metas, patches):
        c = self.cfg
        tokens, h, w = self.m_patch_embed1(x)
        stages = []
        total = sum(c["m_depths"])
        k = 0
        for s in range(4):
            if s > 0:
                tokens, h, w = getattr(self, f"m_patch_embed{s + 1}")(tokens, h, w)
            bridge = getattr(self, f"T_Bridge_{s + 1}")
            blocks = getattr(self, f"m_block{s + 1}")
            for j, l in enumerate(c["stage_layers"][s]):
                # project at the ViT grid, then resize (bilinear, align_corners=False): the studio's order
                proj = bridge(patches[l].permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
                fine = proj if proj.shape[2] == h and proj.shape[3] == w else F.interpolate(proj, size=(h, w), mode="bilinear", align_corners=False)
                m = getattr(self, f"m_proj_norm{l + 1}")(bridge(metas[l]))
                g = fine.mean((2, 3))[:, None, :]
                kv = torch.cat([m, g], 1)
                rate = c["drop_path_rate"] * k / (total - 1) if total > 1 else 0.0
                k += 1
                tokens = blocks[j](tokens, kv, fine.flatten(2).transpose(1, 2), rate)
            tokens = getattr(self, f"m_norm{s + 1}")(tokens)
            b, n, ch = tokens.shape
            stages.append(tokens.transpose(1, 2).reshape(b, ch, h, w))
        return stages

    def forward(self, x):
        metas, patches = self.vit_forward(x)
        return self.side_forward(x, metas, patches)


def is_trainable_name(name):
    """model/trainable.ts: the authors' freeze_vit() rule."""
    if "running_mean" in name or "running_var" in name or "num_batches_tracked" in name:
        return False
    if "m_" in name:
        return True
    if "block" in name and "norm" in name:
        return True
    if name in ("head.weight", "head.bias"):
        return True
    return "T_Bridge" in name
