#!/usr/bin/env python3
"""The PyTorch side of `npm run bench -- gpu`: the authors' HST (ViT_HSN from their models/vit_hsn.py, in the
checkout given as the first argument) on CUDA, on the configurations read as JSON from stdin. Prints one JSON line:
{"device": ..., "rows": [{backbone, size, batch, trainMs, evalMs, memMB} | {..., error}]} or {"error": ...}.

Train step = freeze_vit() (the paper's trainable set: side network, Meta Tokens, ViT block norms, bridges), forward,
loss = mean(output²), backward, Adam; eval = forward under torch.no_grad() in eval mode. Times are per batch,
medians of 3 after one warm-up, with torch.cuda.synchronize() around each."""
import json
import statistics
import sys
import time


def main() -> None:
    cases = json.load(sys.stdin)
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"PyTorch is not installed ({e})"}))
        return
    if not torch.cuda.is_available():
        print(json.dumps({"error": "PyTorch has no CUDA device here"}))
        return
    sys.path.insert(0, sys.argv[1])
    try:
        from models.vit_hsn import ViT_HSN  # the authors' model file
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"cannot import models.vit_hsn from {sys.argv[1]} ({type(e).__name__}: {e}); it needs timm, thop and ipdb"}))
        return
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    rows = []
    for c in cases:
        cfg = c["config"]
        row = {"backbone": c["backbone"], "size": c["size"], "batch": c["batch"]}
        try:
            model = ViT_HSN(
                img_size=c["size"], patch_size=cfg["patch_size"], embed_dim=cfg["embed_dim"], depth=cfg["depth"],
                num_heads=cfg["num_heads"], m_embed_dims=cfg["m_embed_dims"], m_c_num_heads=cfg["m_c_num_heads"],
                num_classes=100,
            ).to(dev)
            model.freeze_vit()
            x = torch.randn(c["batch"], 3, c["size"], c["size"], device=dev)
            opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
            torch.cuda.reset_peak_memory_stats()

            def step() -> float:
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                model.train()
                opt.zero_grad(set_to_none=True)
                loss = model(x).pow(2).mean()
                loss.backward()
                opt.step()
                torch.cuda.synchronize()
                return (time.perf_counter() - t0) * 1000

            def fwd() -> float:
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                model.eval()
                with torch.no_grad():
                    model(x)
                torch.cuda.synchronize()
                return (time.perf_counter() - t0) * 1000

            step()
            row["trainMs"] = statistics.median([step() for _ in range(3)])
            fwd()
            row["evalMs"] = statistics.median([fwd() for _ in range(3)])
            row["memMB"] = torch.cuda.max_memory_allocated() / 2**20
            del model, opt, x
        except Exception as e:  # noqa: BLE001 (out of memory, shape errors: reported per row)
            row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        torch.cuda.empty_cache()
        rows.append(row)
    print(json.dumps({"device": torch.cuda.get_device_name(0), "rows": rows}))


if __name__ == "__main__":
    main()
