"""Trainer throughput: the tutorial's published loop vs cnnviz's trainer, same model (tutorial_a), one process.

    python bench/train_throughput.py [--windows 3] [--window-batches 300] [--skip-full]

Prints, for each loop, images/s over `--windows` alternating windows (median reported), their ratio,
then one full cnnviz run of the shipped recipe (TrainConfig's defaults: 1.5 epochs, SGD-Nesterov + OneCycle
to lr 0.075, label smoothing 0.1, batch 128) and its
test accuracy: "time to 99.0%" is that run's training time when it reaches 99.0%.
Targets on a 2-core CPU: ratio >= 3.5 and <= 10 s to 99.0%.

Each loop runs in its own process, as it would for a user: the tutorial's in this one with Python's defaults,
cnnviz's in a second one set up as `python -m cnnviz.train` and the app's training process set themselves up
(cnnviz.memory.keep_freed_memory: process-wide, so it must not reach the tutorial's loop). The windows still
alternate, so a busy neighbour slows both alike. `OMP_WAIT_POLICY=ACTIVE python bench/train_throughput.py`
measures both loops with OpenMP spinning instead (faster on an idle machine, much slower on a busy one).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cnnviz import data, trainstep  # noqa: E402
from cnnviz import train as tr  # noqa: E402
from cnnviz.arch import PRESETS  # noqa: E402
from cnnviz.device import describe, pick_device  # noqa: E402
from cnnviz.trainconfig import TrainConfig  # noqa: E402


class CNNModel(nn.Module):
    """Model A exactly as the tutorial publishes it."""

    def __init__(self):
        super().__init__()
        self.cnn1 = nn.Conv2d(1, 16, kernel_size=5, stride=1, padding=2)
        self.relu1 = nn.ReLU()
        self.maxpool1 = nn.MaxPool2d(kernel_size=2)
        self.cnn2 = nn.Conv2d(16, 32, kernel_size=5, stride=1, padding=2)
        self.relu2 = nn.ReLU()
        self.maxpool2 = nn.MaxPool2d(kernel_size=2)
        self.fc1 = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        out = self.maxpool1(self.relu1(self.cnn1(x)))
        out = self.maxpool2(self.relu2(self.cnn2(out)))
        return self.fc1(out.view(out.size(0), -1))


def tutorial_window(loader_iter, model, optimizer, criterion, batches: int) -> tuple[float, float]:
    """The published loop for `batches` iterations; returns (images per wall second, per CPU second)."""
    seen, t0, c0 = 0, time.perf_counter(), time.process_time()
    for _ in range(batches):
        images, labels = next(loader_iter)
        images = images.requires_grad_()
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        seen += len(labels)
    return seen / (time.perf_counter() - t0), seen / (time.process_time() - c0)


def cnnviz_window(train_split: data.Split, batches: int, seed: int) -> tuple[float, float]:
    """cnnviz's trainer for `batches` batches of 128 (no held-out evaluation); (images/s wall, per CPU s)."""
    config = TrainConfig(max_batches=batches, val_every=0, seed=seed, report_every=batches)
    c0 = time.process_time()
    result = tr.train(PRESETS["tutorial_a"], config, train_split)
    return result.images_per_s, result.batches * config.batch_size / (time.process_time() - c0)


def cnnviz_process(conn, keep_memory: bool = True) -> None:
    """The second process: set up as the CLI and the app's training child are, then run what `conn` asks for:
    ("window", batches, seed) -> (images/s wall, per CPU s); ("full", seed) -> the full run's line; None: end.
    keep_memory=False leaves glibc's malloc at its defaults (what cnnviz.memory changes, for comparison)."""
    from cnnviz import memory

    if keep_memory:
        memory.keep_freed_memory()
    train_split, test_split = data.load("mnist", "train"), data.load("mnist", "test")
    while (job := conn.recv()) is not None:
        conn.send(cnnviz_window(train_split, *job[1:]) if job[0] == "window" else
                  full_run(train_split, test_split, *job[1:]))


def full_run(train_split: data.Split, test_split: data.Split, seed: int = 0) -> str:
    """The shipped recipe (TrainConfig's defaults, as the CLI and the page start): test accuracy and the
    time it took to reach 99.0%."""
    c0 = time.process_time()
    config = TrainConfig(val_every=0, seed=seed)
    result = tr.train(PRESETS["tutorial_a"], config, train_split, test_split)
    cpu_s = time.process_time() - c0  # includes the final fp32 test evaluation
    verdict = f"reached 99.0% in {result.train_seconds:.1f} s" if result.test_accuracy >= 99.0 else \
        f"did NOT reach 99.0% (took {result.train_seconds:.1f} s)"
    return (f"cnnviz tutorial_a, {config.epochs:g} epochs at peak lr {config.lr:g}, seed {seed}: "
            f"{result.test_accuracy:.2f}% test accuracy, {verdict} "
            f"(target <= 10 s), {result.images_per_s:,.0f} img/s over the run; "
            f"{cpu_s:.1f} CPU-seconds over {torch.get_num_threads()} threads")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--windows", type=int, default=3)
    p.add_argument("--window-batches", type=int, default=300)  # steady state, past warm-up
    p.add_argument("--skip-full", action="store_true", help="skip the full run (time to 99.0%%)")
    p.add_argument("--seeds", default="0", help="seeds of the full runs, comma-separated (default 0)")
    p.add_argument("--malloc-defaults-too", action="store_true",
                   help="also run cnnviz's windows in a third process with glibc's malloc defaults "
                        "(no keep_freed_memory)")
    args = p.parse_args()
    import torchvision.datasets as dsets
    import torchvision.transforms as transforms

    root = str(data.data_root())
    train_dataset = dsets.MNIST(root=root, train=True, transform=transforms.ToTensor(), download=True)
    loader = torch.utils.data.DataLoader(dataset=train_dataset, batch_size=100, shuffle=True)
    torch.manual_seed(0)
    model, criterion = CNNModel(), nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    device = pick_device()
    print(f"device: {describe(device)}; bf16 autocast: {trainstep.use_bf16(device, 'auto')}; "
          f"torch {torch.__version__}", flush=True)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # for the children, as the CLI sets it before torch loads
    ctx = mp.get_context("spawn")
    pipes = {}
    for name, keep in (("cnnviz", True), ("defaults", False))[:2 if args.malloc_defaults_too else 1]:
        ours_end, theirs = ctx.Pipe()
        ctx.Process(target=cnnviz_process, args=(theirs, keep), daemon=True).start()
        pipes[name] = ours_end

    def ask(job, who="cnnviz"):
        pipes[who].send(job)
        return pipes[who].recv()

    tut, ours, other, cpu_ratio = [], [], [], []
    loader_iter = iter(_forever(loader))
    tutorial_window(loader_iter, model, optimizer, criterion, 10)  # warm-up all
    for who in pipes:
        ask(("window", 10, 0), who)
    for w in range(args.windows):  # alternate, so a busy neighbour slows all loops alike
        (t_wall, t_cpu) = tutorial_window(loader_iter, model, optimizer, criterion, args.window_batches)
        (o_wall, o_cpu) = ask(("window", args.window_batches, w))
        tut.append(t_wall)
        ours.append(o_wall)
        cpu_ratio.append(o_cpu / t_cpu)
        line = (f"window {w + 1}: tutorial loop {t_wall:,.0f} img/s, cnnviz {o_wall:,.0f} img/s, "
                f"ratio {o_wall / t_wall:.2f}x (per CPU-second {o_cpu / t_cpu:.2f}x)")
        if "defaults" in pipes:
            other.append(ask(("window", args.window_batches, w), "defaults")[0])
            line += f"; cnnviz with malloc defaults {other[-1]:,.0f} img/s"
        print(line, flush=True)
    t, o = statistics.median(tut), statistics.median(ours)
    paired = statistics.median(o_ / t_ for o_, t_ in zip(ours, tut))
    print(f"median images/s: tutorial loop {t:,.0f}, cnnviz {o:,.0f}; ratio of medians {o / t:.2f}x, "
          f"median paired ratio {paired:.2f}x, per CPU-second {statistics.median(cpu_ratio):.2f}x "
          "(target >= 3.5)")
    if other:
        print(f"cnnviz with glibc's malloc defaults: {statistics.median(other):,.0f} img/s, "
              f"{statistics.median(other) / t:.2f}x the tutorial loop; keep_freed_memory gives "
              f"{statistics.median(a / b for a, b in zip(ours, other)):.2f}x (median paired)", flush=True)
    if not args.skip_full:
        for seed in map(int, args.seeds.split(",")):
            print(ask(("full", seed)), flush=True)
    for end in pipes.values():
        end.send(None)


def _forever(loader):
    while True:
        yield from loader


if __name__ == "__main__":
    main()
