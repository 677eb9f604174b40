# Reference for the loader benchmark: torchvision FashionMNIST + DataLoader samples/s on this machine.
import argparse
import gzip
import os
import shutil
import time

import torch
import torchvision
from torchvision import transforms


def prepare_root(idx_dir, root):
    # torchvision wants ROOT/FashionMNIST/raw with the .gz files and their extracted copies.
    raw = os.path.join(root, "FashionMNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for name in os.listdir(idx_dir):
        if not name.endswith(".gz"):
            continue
        link = os.path.join(raw, name)
        if not os.path.exists(link):
            os.symlink(os.path.join(idx_dir, name), link)
        extracted = os.path.join(raw, name[:-3])
        if not os.path.exists(extracted):
            with gzip.open(link, "rb") as src, open(extracted, "wb") as dst:
                shutil.copyfileobj(src, dst)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idx", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--root", required=True)
    ap.add_argument("--mean", type=float, default=0.2860)
    ap.add_argument("--std", type=float, default=0.3530)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    prepare_root(args.idx, args.root)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((args.mean,), (args.std,))])
    ds = torchvision.datasets.FashionMNIST(args.root, train=True, download=False, transform=tf)
    dl = torch.utils.data.DataLoader(ds, batch_size=args.batch, shuffle=True, num_workers=0)
    for i, _ in enumerate(dl):  # warm-up
        if i == 20:
            break
    samples = 0
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        for images, labels in dl:
            samples += images.shape[0]
    print(f"torchvision_samples_per_s {samples / (time.perf_counter() - t0):.1f}")


if __name__ == "__main__":
    main()
