"""Watching a network learn: live frames while it trains, and weight snapshots a slider can replay.

A `Frame` is what the trainer page draws once a second: the first layer's filters and the network's
guess (with confidence) for a fixed grid of 16 test digits. A `WeightSnapshot` is the whole model's
weights at one moment of the run (every quarter epoch by default), kept small (weights only) and saved
beside the checkpoint as `snapshots.safetensors` (tensors only: nothing is unpickled), so
the replay slider and the Draw page can rebuild the network exactly as it was after, say, 50 batches.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.arch import Spec, build
from cnnviz.evaluate import accuracy_text

EXTRA = "snapshots"  # saved as <checkpoint>/snapshots.safetensors (checkpoints.save extras)
GRID = 16          # digits in the live grid
MAX_SNAPSHOTS = 24  # a long run spaces its snapshots out instead of keeping hundreds


@dataclass(frozen=True)
class Frame:
    """One live-view picture of the network: filters (N, kH, kW) or None, and its guesses for the grid."""

    batch: int
    epoch: float
    filters: np.ndarray | None  # (out_channels, kH, kW), averaged over input channels
    predicted: np.ndarray       # (16,) int64 class index
    confidence: np.ndarray      # (16,) float32 in [0, 1]: the probability of the guess
    labels: np.ndarray          # (16,) int64 true class

    @property
    def right(self) -> int:
        """How many of the grid's digits the network gets right."""
        return int((self.predicted == self.labels).sum())


@dataclass(frozen=True)
class WeightSnapshot:
    """The model's weights (CPU, float32) after `batch` batches, and its held-out accuracy then (or None)."""

    batch: int
    epoch: float
    state: dict[str, torch.Tensor]
    val_accuracy: float | None = None


def grid_indices(labels: torch.Tensor | np.ndarray, n: int = GRID) -> np.ndarray:
    """`n` fixed test-set indices: the first example of every class, then the next ones in order."""
    labels = np.asarray(labels)
    if n < 1 or len(labels) < n:
        raise ValueError(f"a grid of {n} digits needs at least {n} labelled examples, got {len(labels)}")
    firsts = [int(np.flatnonzero(labels == k)[0]) for k in np.unique(labels)][:n]
    rest = [i for i in range(len(labels)) if i not in set(firsts)][:n - len(firsts)]
    return np.array(sorted(firsts + rest), dtype=np.int64)


def grid(split) -> tuple[torch.Tensor, torch.Tensor]:
    """The live grid of a cnnviz.data.Split: (images (16, C, H, W) as the split holds them, labels (16,)).

    A small own dataset with fewer than 16 test examples shows all of them."""
    idx = torch.from_numpy(grid_indices(split.labels, min(GRID, len(split.labels))))
    return split.images[idx], split.labels[idx]


def grid_pictures(split) -> np.ndarray:
    """The live grid's digits for display: (16, H, W) in [0, 1] (the first channel)."""
    return split.raw(torch.from_numpy(grid_indices(split.labels, min(GRID, len(split.labels)))))[:, 0].numpy()


def first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The model's first convolution layer, or None for a network without one."""
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


@torch.no_grad()
def frame(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int, epoch: float,
          autocast_bf16: bool = False) -> Frame:
    """Filters and the guesses for `images` (16, C, H, W) on the model's device; leaves the model's mode as it was."""
    was_training = model.training
    model.eval()
    try:
        with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=autocast_bf16):
            probs = torch.softmax(model(images).float(), dim=1)  # (16, K)
    finally:
        model.train(was_training)
    conf, pred = probs.max(dim=1)
    conv = first_conv(model)
    filters = None if conv is None else conv.weight.detach().float().mean(dim=1).cpu().numpy()
    return Frame(batch, epoch, filters, pred.cpu().numpy(), conf.cpu().numpy(), labels.cpu().numpy())


def snapshot_every(per_epoch: int, total: int, per_epoch_count: float = 4) -> int:
    """Batches between snapshots: a quarter epoch (for 4 per epoch), spaced out to at most MAX_SNAPSHOTS."""
    if per_epoch_count <= 0:
        raise ValueError(f"snapshots per epoch must be > 0, got {per_epoch_count!r}")
    return max(1, round(per_epoch / per_epoch_count), math.ceil(total / MAX_SNAPSHOTS))


def take(model: nn.Module, batch: int, epoch: float, val_accuracy: float | None = None) -> WeightSnapshot:
    """A copy of the model's weights now (CPU float32, contiguous), safe to keep while training goes on."""
    state = {k: v.detach().to("cpu", torch.float32 if v.is_floating_point() else v.dtype,
                              memory_format=torch.contiguous_format).clone()
             for k, v in model.state_dict().items()}
    return WeightSnapshot(batch, epoch, state, val_accuracy)


def model_at(spec: Spec, snap: WeightSnapshot) -> nn.Module:
    """The network `spec` with the weights of `snap`, in eval mode on the CPU."""
    model = build(spec)
    model.load_state_dict(snap.state, strict=True)
    return model.eval()


def label(snap: WeightSnapshot, held_out: tuple[int, str] | None = None) -> str:
    """'after 117 batches (epoch 0.25) · held-out 94.1%' (or 'before training' for batch 0).

    With `held_out`, (how many, what) the accuracy was measured on, the real count: '... · held-out: 941 of 1,000
    test images (94.1%)'."""
    when = "before training" if snap.batch == 0 else f"after {snap.batch:,} batches (epoch {snap.epoch:.2f})"
    if snap.val_accuracy is None:
        return when
    if not held_out:
        return f"{when} · held-out {snap.val_accuracy:.1f}%"
    total, what = held_out
    return f"{when} · held-out: {accuracy_text(round(snap.val_accuracy * total / 100), total, what)}"


def to_tensors(snaps: list[WeightSnapshot]) -> dict[str, torch.Tensor]:
    """Snapshots as one flat dict of tensors, for checkpoints.save(extras={EXTRA: ...}).

    Weights go in as '<i>/<name>' float16 bits stored as int16 (half the size, and the checkpoint writer keeps
    integer tensors as they are); 'meta/batch', 'meta/epoch', 'meta/val_accuracy' (NaN: none) say when.
    """
    if not snaps:
        raise ValueError("no snapshots to save")
    out = {f"{i}/{k}": (v.to(torch.float16).view(torch.int16) if v.is_floating_point() else v).contiguous()
           for i, s in enumerate(snaps) for k, v in s.state.items()}
    out["meta/batch"] = torch.tensor([s.batch for s in snaps], dtype=torch.int64)
    out["meta/epoch"] = torch.tensor([s.epoch for s in snaps], dtype=torch.float32)
    out["meta/val_accuracy"] = torch.tensor([math.nan if s.val_accuracy is None else s.val_accuracy
                                             for s in snaps], dtype=torch.float32)
    return out


def from_tensors(tensors: dict[str, torch.Tensor]) -> list[WeightSnapshot]:
    """`to_tensors` undone: float32 weights on the CPU; ValueError for a file that is not snapshots."""
    try:
        batches, epochs, accs = (tensors[f"meta/{k}"].tolist() for k in ("batch", "epoch", "val_accuracy"))
    except KeyError as err:
        raise ValueError(f"not a snapshots file: it lacks {err}") from None
    snaps = []
    for i, (batch, epoch, acc) in enumerate(zip(batches, epochs, accs)):
        state = {k.split("/", 1)[1]: v.view(torch.float16).float() if v.dtype == torch.int16 else v
                 for k, v in tensors.items() if k.split("/", 1)[0] == str(i)}
        if not state:
            raise ValueError(f"snapshot {i} has no weights")
        snaps.append(WeightSnapshot(int(batch), round(float(epoch), 4), state, None if math.isnan(acc) else acc))
    return snaps


def of_checkpoint(name_or_path) -> list[WeightSnapshot]:
    """The snapshots saved with a checkpoint ([] when it has none, e.g. the shipped models)."""
    from cnnviz import checkpoints

    if EXTRA not in checkpoints.extras(name_or_path):
        return []
    return from_tensors(checkpoints.load_extra(name_or_path, EXTRA))
