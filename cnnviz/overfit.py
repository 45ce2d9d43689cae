"""Overfitting you can cause, and its cures: train on fewer images, augment them, drop units out, decay weights.

`sample` picks the N training images (stratified: every class gets its share), `with_dropout` puts a dropout
layer before a network's last dense layer, `jitter` moves, turns and resizes a batch on the fly (the MNIST family;
own datasets get augmented copies when split, see `ownsplits`), `preview` shows what augmentation does to one
image, and `verdict` says in plain words whether a finished run memorised its training images.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz import data as datamod
from cnnviz.spec import Layer, Spec

SHIFT_PX = 2.0      # jitter: moved by up to 2 px,
DEGREES = 12.0      # turned by up to 12 degrees,
SCALE = 0.1         # and resized by up to 10%: a digit stays the digit it was
GAP_POINTS = 5.0    # a train - held-out gap above this many points: it memorised
SMALL_GAP = 2.0     # up to this many: no sign of it; in between: a little


def sample(split: datamod.Split, n: int | None, seed: int = 0) -> datamod.Split:
    """The first-come `n` images of a training split, stratified: each class gets n/K (the remainder to random
    classes), chosen and shuffled with `seed`. None: the whole split. ValueError for n < 1 or n > the split."""
    total = len(split)
    if n is None or n == total:
        return split
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"train on at least 1 image, not {n!r}")
    if n > total:
        raise ValueError(f"{split.name} has {total:,} training images: choose N up to {total:,}")
    gen = np.random.default_rng(seed)
    labels = split.labels.cpu().numpy()
    classes = np.unique(labels)
    by_class = {c: gen.permutation(np.flatnonzero(labels == c)) for c in classes}
    share, extra = divmod(n, len(classes))
    lucky = set(gen.permutation(classes)[:extra].tolist())
    picked, spare = [], []
    for c in classes:
        want = share + (c in lucky)
        picked.append(by_class[c][:want])
        spare.append(by_class[c][want:])
    chosen = np.concatenate(picked)
    if len(chosen) < n:  # a class with fewer images than its share: the rest from the others
        chosen = np.concatenate([chosen, gen.permutation(np.concatenate(spare))[: n - len(chosen)]])
    index = torch.from_numpy(gen.permutation(chosen))
    return replace(split, images=split.images[index], labels=split.labels[index])


def with_dropout(spec: Spec, p: float) -> Spec:
    """`spec` with a dropout layer of probability `p` right before its last dense layer (an existing one there
    takes `p`); p = 0: `spec` unchanged. ValueError for p outside [0, 1) or a network without a dense layer."""
    if not (isinstance(p, (int, float)) and 0 <= p < 1):
        raise ValueError(f"dropout {p!r} must be at least 0 and below 1 (at 1 every unit is switched off)")
    if p == 0:
        return spec
    layers = list(spec.layers)
    last = max((i for i, layer in enumerate(layers) if layer.type == "linear"), default=None)
    if last is None:
        raise ValueError("dropout goes before a dense (linear) layer, and this network has none")
    drop = Layer("dropout", p=float(p))
    if last > 0 and layers[last - 1].type == "dropout":
        layers[last - 1] = drop
    else:
        layers.insert(last, drop)
    return replace(spec, layers=tuple(layers))


def jitter(pixels: torch.Tensor, gen: torch.Generator, shift: float = SHIFT_PX, degrees: float = DEGREES,
           scale: float = SCALE, fill: float = 0.0) -> torch.Tensor:
    """A batch (N, C, H, W) moved by up to `shift` px, turned by up to `degrees`, resized by up to `scale`, each
    image its own way (drawn from `gen`, on the batch's device); `fill` is what comes in at the edges (the
    background's value: 0 for pixels, -mean/std once normalised)."""
    n, _, h, w = pixels.shape
    u = torch.rand(n, 4, generator=gen, device=gen.device).to(pixels.device) * 2 - 1  # uniform in [-1, 1]
    angle, zoom = u[:, 0] * math.radians(degrees), 1 + u[:, 1] * scale
    tx, ty = u[:, 2] * shift * 2 / w, u[:, 3] * shift * 2 / h  # affine_grid works in [-1, 1] units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1).to(pixels.dtype)
    grid = F.affine_grid(theta, list(pixels.shape), align_corners=False)
    moved = F.grid_sample(pixels - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return moved + fill


def preview(image: torch.Tensor, n: int = 8, seed: int = 0) -> torch.Tensor:
    """`n` augmented versions (n, H, W) in [0, 1] of one image (1, H, W) or (H, W) in [0, 1], the first as it is."""
    x = image.reshape(1, 1, *image.shape[-2:]).float().repeat(n, 1, 1, 1)
    moved = jitter(x[1:], torch.Generator().manual_seed(seed))
    return torch.cat([x[:1], moved]).clamp(0, 1)[:, 0]


def overfitted(train_accuracy: float, held_out_accuracy: float) -> bool:
    """Whether the gap (percentage points) says it memorised its training images."""
    return train_accuracy - held_out_accuracy > GAP_POINTS


def verdict(train_accuracy: float, held_out_accuracy: float, tested: int, what: str = "test images") -> str:
    """In plain words: did the run memorise its training images? (accuracies in percent; `tested`: how many of
    its training images the first one was measured on)"""
    gap = train_accuracy - held_out_accuracy
    head = (f"On {tested:,} of the images it trained on it got {train_accuracy:.1f}% right; on {what} it had never "
            f"seen, {held_out_accuracy:.1f}%")
    if overfitted(train_accuracy, held_out_accuracy):
        return (f"{head}: a gap of {gap:.1f} points. It overfitted: it memorised its training images instead of "
                "learning what the classes look like. More images, augmentation, dropout or weight decay help.")
    if gap < -GAP_POINTS:
        return (f"{head}. It does better on new images than on its training images: augmentation or dropout make "
                "the training images harder than the test.")
    if gap > SMALL_GAP:
        return (f"{head}: a gap of {gap:.1f} points. A little overfitting: it knows its training images somewhat "
                "better than new ones.")
    return f"{head}: a gap of {gap:.1f} points. No sign of overfitting: it does about as well on images it never saw."


TRAIN_TESTED = 10_000  # a finished run is tested on up to this many of its training images (~1 s on 2 cores)


def batch_augmenter(config, split: datamod.Split, device: torch.device):
    """For a run with `config.augment` on the MNIST family: a function that jitters each batch on `device` (its
    own seeded stream; the edges filled with the background's normalised value). None otherwise (own datasets
    are augmented when split: `ownsplits.splits`)."""
    from cnnviz import registry

    if not config.augment or registry.is_own(config.dataset):
        return None
    gen = torch.Generator(device=device).manual_seed(config.seed + 7919)
    fill = -split.mean / split.std
    return lambda xb: jitter(xb, gen, fill=fill)
