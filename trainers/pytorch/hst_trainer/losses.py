"""The studio's losses (src-main/core/losses/*.ts) and the heads' loss parts (fcos-head.ts, condinst-head.ts,
semantic-fpn-head.ts, classify-head.ts).

Each part is Σ(per-element loss) / normaliser. Under torch.distributed the normaliser is the global one (summed
over processes) and the local part is multiplied by the world size, so DDP's gradient average equals the gradient
of the one-process loss on the concatenated batch; the logged value is then all-reduced (train.py)."""
import torch

from . import dist_util
from .layers import resize_bilinear


def bce_with_logits(x, t):
    return torch.relu(x) - x * t + torch.log1p(torch.exp(-x.abs()))


def focal_elementwise(x, t, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(x)
    ce = bce_with_logits(x, t)
    one_minus_pt = p * (1 - t) + (1 - p) * t
    loss = ce * one_minus_pt * one_minus_pt if gamma == 2 else ce * one_minus_pt ** gamma
    if alpha >= 0:
        loss = loss * (t * alpha + (1 - t) * (1 - alpha))
    return loss


def giou_loss(pred, target, eps=1e-7):
    px1, py1, px2, py2 = pred.unbind(-1)
    tx1, ty1, tx2, ty2 = target.unbind(-1)
    pa = torch.relu(px2 - px1) * torch.relu(py2 - py1)
    ta = torch.relu(tx2 - tx1) * torch.relu(ty2 - ty1)
    iw = torch.relu(torch.minimum(px2, tx2) - torch.maximum(px1, tx1))
    ih = torch.relu(torch.minimum(py2, ty2) - torch.maximum(py1, ty1))
    inter = iw * ih
    union = pa + ta - inter + eps
    ew = torch.maximum(px2, tx2) - torch.minimum(px1, tx1)
    eh = torch.maximum(py2, ty2) - torch.minimum(py1, ty1)
    enclose = torch.relu(ew) * torch.relu(eh) + eps
    giou = inter / union - (enclose - union) / enclose
    return 1 - giou


def giou_loss_ltrb(pred, target, eps=1e-7):
    def box(d):
        l, t, r, b = d.unbind(-1)
        return torch.stack([-l, -t, r, b], -1)

    return giou_loss(box(pred), box(target), eps)


def dice_loss(probs, targets, eps=1e-5):
    inter = (probs * targets).sum(1)
    denom = (probs * probs).sum(1) + (targets * targets).sum(1) + eps
    return 1 - 2 * inter / denom


def ce_sum_and_count(logits, labels, ignore=255):
    """Σ CE over non-ignored elements and their count; logits [..., K], labels [...] int."""
    k = logits.shape[-1]
    fl = logits.reshape(-1, k)
    lab = labels.reshape(-1).long()
    valid = lab != ignore
    logp = torch.log_softmax(fl, 1)
    safe = torch.where(valid, lab, torch.zeros_like(lab))
    per = -logp.gather(1, safe[:, None])[:, 0] * valid.to(logp.dtype)
    return per.sum(), float(valid.sum().item())


def task_losses(model, stages, t):
    """Unweighted loss parts of the model's tasks for one (local) batch with prepared targets `t`."""
    W = dist_util.world_size()
    dev = stages[0].device
    heads = model.heads
    parts = {}
    levels = heads.fpn(stages) if heads.fpn is not None else {}
    if heads.det is not None:
        out = heads.det(levels)
        f = t["fcos"]
        B, N, K = out["cls"].shape
        if f["batch"] != B or f["numLocations"] != N:
            raise ValueError(f"FCOS loss: targets are for {f['batch']}×{f['numLocations']} locations, the head produced {B}×{N}")
        labels = torch.from_numpy(f["labels"]).to(dev).reshape(B, N)
        pos = (labels >= 0).to(out["cls"].dtype)
        onehot = torch.zeros(B, N, K, device=dev, dtype=out["cls"].dtype)
        onehot[labels >= 0] = torch.nn.functional.one_hot(labels[labels >= 0].long(), K).to(onehot.dtype)
        ctr_t = torch.from_numpy(f["centerness"]).to(dev).reshape(B, N)
        ctr_sum_local = float(sum(float(v) for v in f["centerness"][f["labels"] >= 0]))
        num_pos = dist_util.global_sum(f["numPos"])
        ctr_sum = dist_util.global_sum(ctr_sum_local)
        parts["det_cls"] = focal_elementwise(out["cls"], onehot).sum() / max(num_pos, 1) * W
        ltrb = torch.from_numpy(f["ltrb"]).to(dev).reshape(B, N, 4)
        parts["det_box"] = (giou_loss_ltrb(out["box"], ltrb) * ctr_t).sum() / max(ctr_sum, 1e-6) * W
        parts["det_ctr"] = (bce_with_logits(out["ctr"], ctr_t) * pos).sum() / max(num_pos, 1e-6) * W
        if heads.mask is not None:
            mo = heads.mask(levels, out)
            ci = t["condinst"]
            feats = mo["mask_feats"]
            if feats.shape[2] != ci["maskH"] or feats.shape[3] != ci["maskW"]:
                raise ValueError(f"CondInst loss: targets are for a {ci['maskH']}×{ci['maskW']} mask grid, the head produced {feats.shape[2]}×{feats.shape[3]}")
            m_total = dist_util.global_sum(ci["count"])
            if ci["count"] == 0:
                # keeps every mask parameter in the graph (DDP needs a gradient, zero here, for each of them)
                parts["mask_dice"] = (mo["params"].sum() + feats.sum()) * 0.0
            else:
                P = mo["params"].shape[2]
                params = mo["params"].reshape(B * N, P)[torch.from_numpy(ci["flatIndex"]).to(dev)]
                logits = heads.mask.dynamic_masks(params, feats, torch.from_numpy(ci["imageIndex"]).to(dev), torch.from_numpy(ci["relCoords"]).to(dev))
                dice = dice_loss(torch.sigmoid(logits), torch.from_numpy(ci["gtMasks"]).to(dev))
                parts["mask_dice"] = dice.sum() / max(m_total, 1) * W
    if heads.sem is not None:
        H, Wd = t["imageSize"]
        logits = heads.sem(levels)
        up = resize_bilinear(logits, H, Wd).permute(0, 2, 3, 1)
        lab = torch.from_numpy(t["semantic"].astype("int64")).to(dev).reshape(-1, H, Wd)
        s, cnt = ce_sum_and_count(up, lab)
        parts["sem_ce"] = s / max(dist_util.global_sum(cnt), 1) * W
    if model.cls is not None:
        logits = model.cls(stages[3])
        lab = torch.from_numpy(t["classLabels"]).to(dev)
        lab = torch.where(lab < 0, torch.full_like(lab, 255), lab)
        s, cnt = ce_sum_and_count(logits, lab)
        parts["cls_ce"] = s / max(dist_util.global_sum(cnt), 1) * W
    return parts


def weighted_total(parts, weights):
    return sum(v * (weights or {}).get(k, 1) for k, v in parts.items())
