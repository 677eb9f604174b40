# Compares the model tensors of two strike checkpoints: exit 1 and the worst tensor if any differs
# by more than atol + rtol * |a| elementwise. Usage: compare_checkpoints.py A.h5 B.h5 ATOL RTOL
import sys

import h5py
import numpy as np


def tensors(group, prefix=""):
    out = {}
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            out.update(tensors(item, prefix + key + "/"))
        else:
            out[prefix + key] = np.asarray(item[()], dtype=np.float64)
    return out


a_path, b_path, atol, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
a = tensors(h5py.File(a_path, "r")["model"])
b = tensors(h5py.File(b_path, "r")["model"])
assert a.keys() == b.keys(), sorted(set(a) ^ set(b))
worst = max(((np.max(np.abs(a[k] - b[k]) - rtol * np.abs(a[k])) if a[k].size else -1.0, k) for k in a))
print(f"{len(a)} tensors; worst |a-b| - rtol*|a| = {worst[0]:.3g} (limit {atol}) in {worst[1]}")
sys.exit(0 if worst[0] <= atol else 1)
