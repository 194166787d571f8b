"""HST against the authors' PyTorch model: the shared fixture (../shared/fixtures/hst_tiny, random weights run
through the authors' code) must be reproduced layer for layer (rel. error < 1e-4, the fixture's measure)."""
import json
import os
import unittest

import torch

from hst_trainer.heads import ClassifyHead
from hst_trainer.hst import HST
from hst_trainer.st import read_safetensors

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "fixtures", "hst_tiny")


def rel(a, b):
    return float((a - b).norm() / b.norm())


class HstFixtureTest(unittest.TestCase):
    def setUp(self):
        if not os.path.isdir(FIXTURE):
            self.fail(f"the shared fixture folder {os.path.abspath(FIXTURE)} is missing (expected at ../shared from the repository root)")

    def test_stages_and_logits(self):
        with open(os.path.join(FIXTURE, "config.json")) as f:
            cfg = json.load(f)["config"]
        w, _ = read_safetensors(os.path.join(FIXTURE, "weights.safetensors"))
        t, _ = read_safetensors(os.path.join(FIXTURE, "tensors.safetensors"))
        model = HST({k: v for k, v in cfg.items() if k != "num_classes"}).eval()
        own = model.state_dict()
        self.assertEqual(sorted(k for k in own), sorted(k for k in w if k in own))
        self.assertEqual(sorted(k for k in w if k not in own), ["fc_norm.running_mean", "fc_norm.running_var", "head.bias", "head.weight"])
        model.load_state_dict({k: v for k, v in w.items() if k in own})
        head = ClassifyHead(cfg["m_embed_dims"][3], cfg["num_classes"]).eval()
        head.load_state_dict({k: w[k] for k in head.state_dict()})
        with torch.no_grad():
            metas, patches = model.vit_forward(t["input"])
            stages = model.side_forward(t["input"], metas, patches)
            logits = head(stages[3])
        for i, s in enumerate(stages):
            self.assertLess(rel(s.flatten(2).transpose(1, 2), t[f"stage{i + 1}"]), 1e-4, f"stage{i + 1}")
        self.assertLess(rel(logits, t["logits"]), 1e-4)
        for l in range(cfg["depth"]):
            ref = t[f"vit_block{l}"]
            self.assertLess(rel(metas[l], ref[:, :1]), 1e-4, f"meta token after block {l}")
            self.assertLess(rel(patches[l].flatten(2).transpose(1, 2), ref[:, 2:]), 1e-4, f"patches after block {l}")

    def test_a_changed_eps_breaks_parity(self):
        """The comparison can fail: the stem LayerNorm eps 1e-5 → 1e-3 is caught."""
        with open(os.path.join(FIXTURE, "config.json")) as f:
            cfg = json.load(f)["config"]
        w, _ = read_safetensors(os.path.join(FIXTURE, "weights.safetensors"))
        t, _ = read_safetensors(os.path.join(FIXTURE, "tensors.safetensors"))
        model = HST({k: v for k, v in cfg.items() if k != "num_classes"}).eval()
        model.load_state_dict({k: v for k, v in w.items() if k in model.state_dict()})
        model.m_patch_embed1.norm.eps = 1e-3
        with torch.no_grad():
            s = model(t["input"])
        self.assertGreater(rel(s[0].flatten(2).transpose(1, 2), t["stage1"]), 1e-4)


if __name__ == "__main__":
    unittest.main()
