"""The studio's task heads (src-main/core/heads/*.ts) with the same parameter names: FPN, FCOS, CondInst, Semantic
FPN and the HST classification head, over the 4 stage maps (NCHW here)."""
import math

import torch
import torch.nn as nn

from .layers import BatchNorm, Conv, make_norm, resize_bilinear, resize_nearest

STAGE_STRIDES = [4, 8, 16, 32]
MAX_LOG_DIST = 12.0


class Fpn(nn.Module):
    """heads/fpn.ts: 1×1 laterals (`lateral.{i}`), top-down nearest + add, 3×3 outputs (`output.{i}`) for the
    requested levels only."""

    def __init__(self, in_channels, width, levels):
        super().__init__()
        self.levels = sorted(set(levels))
        self.first = STAGE_STRIDES.index(self.levels[0])
        self.lateral = nn.ModuleDict()
        self.output = nn.ModuleDict()
        for i in range(self.first, 4):
            self.lateral[str(i)] = Conv(in_channels[i], width, 1)
            if STAGE_STRIDES[i] in self.levels:
                self.output[str(i)] = Conv(width, width, 3)

    def forward(self, stages):
        out = {}
        top = None
        for i in range(3, self.first - 1, -1):
            lat = self.lateral[str(i)](stages[i])
            merged = lat if top is None else lat + resize_nearest(top, lat.shape[2], lat.shape[3])
            top = merged
            if str(i) in self.output:
                out[STAGE_STRIDES[i]] = self.output[str(i)](merged)
        return out


class ConvTower(nn.Sequential):
    """conv3×3 at index 3i, norm at 3i+1, ReLU at 3i+2 (heads/layers/conv-block.ts)."""

    def __init__(self, cin, channels, depth, norm):
        mods = []
        for i in range(depth):
            mods.append(Conv(cin if i == 0 else channels, channels, 3))
            n = make_norm(norm, channels)
            mods.append(n if n is not None else nn.Identity())
            mods.append(nn.ReLU())
        super().__init__(*mods)


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.0))


class FcosHead(nn.Module):
    def __init__(self, num_classes, in_channels, strides, tower_depth, norm):
        super().__init__()
        self.strides = sorted(set(strides))
        self.num_classes = num_classes
        self.tower_width = in_channels
        self.cls_tower = ConvTower(in_channels, in_channels, tower_depth, norm)
        self.bbox_tower = ConvTower(in_channels, in_channels, tower_depth, norm)
        self.cls_logits = Conv(in_channels, num_classes, 3)
        self.bbox_pred = Conv(in_channels, 4, 3)
        self.centerness = Conv(in_channels, 1, 3)
        self.scales = nn.ModuleList([Scale() for _ in self.strides])

    def forward(self, levels):
        cls, box, ctr, shapes, towers = [], [], [], [], []
        for li, s in enumerate(self.strides):
            x = levels[s]
            b, _, h, w = x.shape
            shapes.append((s, h, w))
            ct = self.cls_tower(x)
            bt = self.bbox_tower(x)
            towers.append(bt)
            cls.append(self.cls_logits(ct).permute(0, 2, 3, 1).reshape(b, h * w, self.num_classes))
            raw = self.bbox_pred(bt) * self.scales[li].scale
            dist = torch.exp(torch.clamp(raw, max=MAX_LOG_DIST))
            box.append((dist * s).permute(0, 2, 3, 1).reshape(b, h * w, 4))
            ctr.append(self.centerness(bt).reshape(b, h * w))
        return {"cls": torch.cat(cls, 1), "box": torch.cat(box, 1), "ctr": torch.cat(ctr, 1), "levels": shapes, "towers": towers}


class CondInstHead(nn.Module):
    def __init__(self, in_channels, controller_in, mask_stride, branch_width, branch_depth, norm, max_instances=64, mask_channels=8, dyn_channels=8):
        super().__init__()
        self.mask_stride = mask_stride
        self.mask_channels = mask_channels
        self.dyn = dyn_channels
        self.max_instances = max_instances
        c, d = mask_channels, dyn_channels
        self.num_params = (c + 2) * d + d * d + d + d + d + 1
        self.input_strides = [mask_stride, mask_stride * 2]
        self.refine = nn.ModuleList()
        for _ in self.input_strides:
            n = make_norm(norm, branch_width)
            self.refine.append(nn.Sequential(Conv(in_channels, branch_width, 3), n if n is not None else nn.Identity()))
        self.tower = ConvTower(branch_width, branch_width, max(0, branch_depth - 1), norm)
        self.out = Conv(branch_width, c, 1)
        self.controller = Conv(controller_in, self.num_params, 3)

    def forward(self, levels, fcos):
        fused = None
        for i, s in enumerate(self.input_strides):
            y = torch.relu(self.refine[i](levels[s]))
            if fused is not None:
                y = resize_bilinear(y, fused.shape[2], fused.shape[3])
            fused = y if fused is None else fused + y
        feats = self.out(self.tower(fused))
        per = []
        for t in fcos["towers"]:
            b, _, h, w = t.shape
            per.append(self.controller(t).permute(0, 2, 3, 1).reshape(b, h * w, self.num_params))
        return {"mask_feats": feats, "params": torch.cat(per, 1)}

    def dynamic_masks(self, params, feats, image_index, rel):
        """params [M,P], feats [B,C,Hm,Wm], image_index [M], rel [M,HW,2] → logits [M,HW]."""
        m = params.shape[0]
        b, c, hm, wm = feats.shape
        d = self.dyn
        sel = feats.flatten(2).transpose(1, 2)[image_index]  # [M,HW,C]
        x = torch.cat([rel, sel], 2)
        sizes = [(c + 2) * d, d * d, d, d, d, 1]
        w0, w1, w2, b0, b1, b2 = torch.split(params, sizes, 1)
        h = torch.einsum("mpi,moi->mpo", x, w0.reshape(m, d, c + 2)) + b0[:, None, :]
        h = torch.relu(h)
        h = torch.einsum("mpi,moi->mpo", h, w1.reshape(m, d, d)) + b1[:, None, :]
        h = torch.relu(h)
        return torch.einsum("mpi,mi->mp", h, w2) + b2


class SemanticFpnHead(nn.Module):
    def __init__(self, num_classes, in_channels, strides, width, norm):
        super().__init__()
        self.strides = sorted(set(strides))
        self.scale_heads = nn.ModuleList()
        self.ups = []
        for s in self.strides:
            n = max(1, int(round(math.log2(s / 4))))
            mods = []
            for j in range(n):
                mods.append(Conv(in_channels if j == 0 else width, width, 3))
                nm = make_norm(norm, width)
                mods.append(nm if nm is not None else nn.Identity())
                mods.append(nn.ReLU())
            self.scale_heads.append(nn.Sequential(*mods))
            self.ups.append(s > 4)
        self.predictor = Conv(width, num_classes, 1)

    def forward(self, levels):
        total = None
        out_h = out_w = 0
        for li, s in enumerate(self.strides):
            x = levels[s]
            if li == 0:
                out_h = x.shape[2] * (s // 4)
                out_w = x.shape[3] * (s // 4)
            seq = self.scale_heads[li]
            for j in range(0, len(seq), 3):
                x = seq[j + 2](seq[j + 1](seq[j](x)))
                if self.ups[li]:
                    x = resize_bilinear(x, x.shape[2] * 2, x.shape[3] * 2)
            if x.shape[2] != out_h or x.shape[3] != out_w:
                x = x[:, :, : min(out_h, x.shape[2]), : min(out_w, x.shape[3])]
            if x.shape[2] != out_h or x.shape[3] != out_w:
                x = resize_bilinear(x, out_h, out_w)
            total = x if total is None else total + x
        return self.predictor(total)


class MultiTaskHeads(nn.Module):
    """heads/multi-task.ts. Parameter names: heads.fpn.*, heads.det.*, heads.mask.*, heads.sem.* (this module is
    registered as `heads` in TaskModel); classification uses the root names fc_norm.* / head.* (TaskModel)."""

    def __init__(self, stage_channels, settings):
        super().__init__()
        tasks = set(settings["tasks"])
        if "instance" in tasks:
            tasks.add("detect")
        self.tasks = tasks
        width = settings.get("fpnWidth", 64)
        norm = settings.get("norm", "gn")
        det_strides = settings.get("detStrides", [8, 16, 32])
        mask_stride = settings.get("maskStride", 8)
        sem_strides = settings.get("semanticStrides", STAGE_STRIDES)
        k = settings["numClasses"]
        levels = set()
        if "detect" in tasks:
            levels.update(det_strides)
        if "instance" in tasks:
            levels.update([mask_stride, mask_stride * 2])
        if "semantic" in tasks:
            levels.update(sem_strides)
        self.fpn = Fpn(stage_channels, width, levels) if levels else None
        self.det = FcosHead(k, width, det_strides, settings.get("towerDepth", 4), norm) if "detect" in tasks else None
        self.mask = (
            CondInstHead(width, width, mask_stride, settings.get("maskBranchWidth", width), settings.get("maskBranchDepth", 4), norm, settings.get("maxMaskInstances", 64))
            if "instance" in tasks else None
        )
        self.sem = SemanticFpnHead(k + 1, width, sem_strides, settings.get("semanticWidth", width), norm) if "semantic" in tasks else None


class ClassifyHead(nn.Module):
    """heads/classify-head.ts: mean of stage 4 → BatchNorm1d(affine=False, eps 1e-6) → Linear."""

    def __init__(self, channels, num_classes):
        super().__init__()
        self.fc_norm = BatchNorm(channels, 1e-6, affine=False)
        self.head = nn.Linear(channels, num_classes)

    def forward(self, stage4):
        return self.head(self.fc_norm(stage4.mean((2, 3))))
