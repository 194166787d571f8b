"""Small units: safetensors round trip and errors, the RNG's known stream, the schedule, frPoly rasterisation."""
import os
import tempfile
import unittest

import numpy as np
import torch

from hst_trainer.geometry import decode_rle, polygons_to_mask
from hst_trainer.optim import warmup_cosine_lr
from hst_trainer.rng import Rng
from hst_trainer.st import SafetensorsError, read_safetensors, write_safetensors


class UnitTests(unittest.TestCase):
    def test_safetensors_round_trip_and_errors(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "a.safetensors")
            t = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "n": torch.tensor(7, dtype=torch.int32)}
            write_safetensors(p, t, {"k": "v"})
            r, meta = read_safetensors(p)
            self.assertEqual(meta, {"k": "v"})
            self.assertTrue(torch.equal(r["w"], t["w"]))
            self.assertEqual(int(r["n"]), 7)
            with open(p, "rb") as f:
                raw = f.read()
            with open(p, "wb") as f:
                f.write(raw[:-4])
            with self.assertRaisesRegex(SafetensorsError, "tensor"):
                read_safetensors(p)

    def test_rng_is_seeded_and_resumable(self):
        a = Rng(3, 0xA06)
        xs = [a.next() for _ in range(5)]
        self.assertTrue(all(0 <= x < 1 for x in xs))
        self.assertEqual(xs, [Rng(3, 0xA06).next() for _ in range(1)] + xs[1:])
        b = Rng.from_state(a.get_state())
        self.assertEqual([a.u32() for _ in range(3)], [b.u32() for _ in range(3)])
        self.assertNotEqual(Rng(3, 0xA06).next(), Rng(4, 0xA06).next())
        self.assertEqual(sorted(Rng(1).shuffle(list(range(10)))), list(range(10)))

    def test_schedule(self):
        self.assertAlmostEqual(warmup_cosine_lr(0, 1.0, 100, 10, 0.01, 0.0), 0.01)
        self.assertAlmostEqual(warmup_cosine_lr(10, 1.0, 100, 10, 0.01, 0.0), 1.0)
        self.assertAlmostEqual(warmup_cosine_lr(100, 1.0, 100, 10, 0.01, 0.1), 0.1)

    def test_polygon_and_rle(self):
        m = polygons_to_mask([[1, 1, 5, 1, 5, 4, 1, 4]], 8, 8)
        self.assertEqual(int(m.sum()), 12)  # pycocotools' frPoly: the 4×3 pixels whose centres lie inside
        self.assertEqual(int(decode_rle({"size": [2, 2], "counts": [1, 2, 1]}).sum()), 2)


if __name__ == "__main__":
    unittest.main()
