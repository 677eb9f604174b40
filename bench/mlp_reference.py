"""Reference for strike_mlp_step_bench: the same tabular MLP trained in a plain PyTorch loop.

Model Linear(16,64) ReLU Linear(64,64) ReLU Linear(64,3), cross-entropy, batch 64 of synthetic data
from a pre-generated pool of batches (cycled), one thread, warm-up steps excluded. Prints
"<optimizer> <steps/s>" lines that run_mlp_bench.sh reads.
Usage: python3 mlp_reference.py [steps] [warmup] [adamw|sgd ...]
"""
import sys
import time

import torch

IN, HIDDEN, CLASSES, BATCH, POOL = 16, 64, 3, 64, 16


def run(optimizer_name, steps, warmup):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(IN, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, CLASSES))
    if optimizer_name == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9, weight_decay=1e-4)
    xs = [torch.randn(BATCH, IN) for _ in range(POOL)]
    ys = [torch.randint(0, CLASSES, (BATCH,)) for _ in range(POOL)]
    loss_fn = torch.nn.CrossEntropyLoss()
    start = None
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        x, y = xs[step % POOL], ys[step % POOL]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - start)


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    names = sys.argv[3:] or ["adamw", "sgd"]
    torch.set_num_threads(1)
    for name in names:
        print(f"{name} {run(name, steps, warmup):.1f}", flush=True)


if __name__ == "__main__":
    main()
