"""Minimal safetensors reader/writer (the format: 8-byte little-endian header length, a JSON header, raw data).

Uses the `safetensors` package when it is installed; otherwise this implementation. Both give torch tensors.
"""
import json
import struct

import numpy as np
import torch

_DT = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
    "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}
_NP_TO_ST = {np.dtype(v).str: k for k, v in _DT.items()}
MAX_HEADER = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    pass


def read_safetensors(path):
    """→ (dict name → torch.Tensor, metadata dict). Errors name the file and the tensor."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise SafetensorsError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > MAX_HEADER or 8 + n > len(raw):
        raise SafetensorsError(f"{path}: header length {n} is out of bounds")
    try:
        header = json.loads(raw[8:8 + n].decode("utf8"))
    except ValueError as e:
        raise SafetensorsError(f"{path}: header is not JSON ({e})") from e
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, info in header.items():
        dt = info.get("dtype")
        if dt not in _DT:
            raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {dt}")
        a, b = info["data_offsets"]
        shape = list(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= a <= b <= len(data)) or (b - a) != count * np.dtype(_DT[dt]).itemsize:
            raise SafetensorsError(f"{path}: tensor {name} has bad data offsets [{a}, {b}]")
        arr = np.frombuffer(data[a:b], dtype=_DT[dt]).reshape(shape).copy()
        out[name] = torch.from_numpy(arr)
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name → torch.Tensor or numpy array (written in sorted name order, contiguous)."""
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name]
        a = t.detach().cpu().contiguous().numpy() if isinstance(t, torch.Tensor) else np.ascontiguousarray(t)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        key = np.dtype(a.dtype).str.replace(">", "<").replace("|", "|")
        st = _NP_TO_ST.get(key) or _NP_TO_ST.get(np.dtype(a.dtype).str)
        if st is None:
            raise SafetensorsError(f"tensor {name}: dtype {a.dtype} cannot be written")
        b = a.tobytes()
        header[name] = {"dtype": st, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode("utf8")
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = f"{path}.partial"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    import os
    os.replace(tmp, path)
