"""Python references for bench/gpu_bench.sh: images/s of torchvision ResNet (or strike's small_cnn) training
on one GPU.

  eager      plain PyTorch eager, synthetic data already on the GPU (as strike_gpu_bench)
  eager-cudnn-benchmark   the same with torch.backends.cudnn.benchmark = True (strike_gpu_bench sets it)
  lightning  Lightning's Trainer fed by a DataLoader with 8 workers (how Lightning is used)

Same model layout, optimizer (SGD, momentum 0.9, weight decay 1e-4) and autocast dtype as strike_gpu_bench.
Usage: gpu_reference.py MODE [model=resnet50] [size=224] [batch=256] [steps=30] [warmup=10] [precision=bf16-mixed]
Prints one line: "RESULT <mode> <images/s>".
"""
import sys
import time

import torch
import torch.nn.functional as F
import torchvision


def args():
    a = sys.argv[1:] + [None] * 7
    mode = a[0]
    model = a[1] or "resnet50"
    size = int(a[2] or 224)
    batch = int(a[3] or 256)
    steps = int(a[4] or 30)
    warmup = int(a[5] or 10)
    precision = a[6] or "bf16-mixed"
    return mode, model, size, batch, steps, warmup, precision


def shape(name):
    """(channels, classes): small_cnn is Fashion-MNIST's baseline, the ResNets ImageNet's."""
    return (1, 10) if name == "small_cnn" else (3, 1000)


def small_cnn():
    """strike's small_cnn (tasks/backbones/small_cnn.h) and linear head, layer for layer."""
    nn = torch.nn

    def block(cin, cout, kernel, padding):
        return [nn.Conv2d(cin, cout, kernel, padding=padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    return nn.Sequential(*block(1, 32, 3, 1), nn.MaxPool2d(2), *block(32, 64, 3, 1), *block(64, 64, 3, 1),
                         nn.MaxPool2d(2), *block(64, 256, 7, 0), nn.Flatten(), nn.Linear(256, 10))


def make_model(name):
    torch.manual_seed(0)
    if name == "small_cnn":
        return small_cnn()
    return getattr(torchvision.models, name)(weights=None, num_classes=1000)


def make_optimizer(params):
    return torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)


def eager(name, size, batch, steps, warmup, precision):
    model = make_model(name).cuda()
    opt = make_optimizer(model.parameters())
    dtype = torch.float16 if precision == "16-mixed" else torch.bfloat16
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "16-mixed")
    channels, classes = shape(name)
    x = torch.randn(batch, channels, size, size, device="cuda")
    y = torch.randint(0, classes, (batch,), device="cuda")
    for step in range(warmup + steps):
        if step == warmup:
            torch.cuda.synchronize()
            start = time.perf_counter()
        with torch.autocast("cuda", dtype=dtype, enabled=precision != "32"):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def lightning(name, size, batch, steps, warmup, precision):
    import lightning as L
    from torch.utils.data import DataLoader, Dataset

    class Synthetic(Dataset):
        def __init__(self, n):
            self.n = n
            channels, classes = shape(name)
            self.x = torch.randn(64, channels, size, size)
            self.y = torch.randint(0, classes, (64,))

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            return self.x[i % 64], self.y[i % 64]

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = make_model(name)

        def training_step(self, batch, _):
            x, y = batch
            return F.cross_entropy(self.model(x), y)

        def configure_optimizers(self):
            return make_optimizer(self.parameters())

    class Timer(L.Callback):
        start = end = None

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if batch_idx == warmup:
                torch.cuda.synchronize()
                self.start = time.perf_counter()

        def on_train_end(self, trainer, module):
            torch.cuda.synchronize()
            self.end = time.perf_counter()

    timer = Timer()
    loader = DataLoader(Synthetic((warmup + steps) * batch), batch_size=batch, num_workers=8, pin_memory=True,
                        drop_last=True)
    trainer = L.Trainer(accelerator="gpu", devices=1, precision=precision, max_steps=warmup + steps, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[timer])
    trainer.fit(Module(), loader)
    return steps * batch / (timer.end - timer.start)


def main():
    mode, name, size, batch, steps, warmup, precision = args()
    if mode == "eager":
        value = eager(name, size, batch, steps, warmup, precision)
    elif mode == "eager-cudnn-benchmark":
        torch.backends.cudnn.benchmark = True
        value = eager(name, size, batch, steps, warmup, precision)
    elif mode == "lightning":
        value = lightning(name, size, batch, steps, warmup, precision)
    else:
        sys.exit(f"unknown mode {mode!r}: eager, eager-cudnn-benchmark or lightning")
    print(f"RESULT {mode} {value:.0f}", flush=True)


if __name__ == "__main__":
    main()
