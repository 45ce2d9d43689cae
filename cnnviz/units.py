"""What a conv channel has learned: the test images (and the patches of them it sees) that excite it most,
and an input optimised to excite it (activation maximisation).

A channel's response to an image is its strongest unit: the maximum of the channel's map (after the
activation that follows the conv, as Draw's overview shows it) over all positions. The top images are
computed once per model over its test set, and cached with the checkpoint as an extra file
(`units.safetensors`) beside a fingerprint of the weights they were computed from.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from cnnviz import checkpoints, explain, lazydynamo
from cnnviz.arch import Spec

lazydynamo.install()  # Adam on the input imports nothing more (cnnviz.lazydynamo)

EXTRA = "units"  # <checkpoint>/units.safetensors
TOP = 9
DREAM_STEPS = 200
DREAM_LR = 0.05
DREAM_DECAY = 0.002  # L2 on the pixels: without it the optimiser paints ink wherever ink never hurts
DREAM_SMOOTH = 0.02  # total variation: neighbouring pixels alike, so the picture shows strokes, not speckle
CAN_AND_CANNOT = ("This picture was grown from a blank square, step by step, to make this channel respond as "
                  "strongly as it can. It shows the kind of stroke the channel looks for; it is one of many such "
                  "inputs, shaped by where it started and by the smoothing we asked for, and no real digit looks "
                  "like it. The 9 real images above are the better evidence.")


@dataclass(frozen=True)
class Strongest:
    """The `k` images of a set that excite each channel of one conv layer most, strongest first.

    values, index, row, col: (channels, k) arrays: the channel's maximum over its map, the image's index
    in the set, and where on the map that maximum is.
    """

    layer: str
    shown: str
    values: np.ndarray
    index: np.ndarray
    row: np.ndarray
    col: np.ndarray

    @property
    def channels(self) -> int:
        return int(self.values.shape[0])


def conv_stages(spec: Spec) -> list[explain.Stage]:
    """The conv columns of Draw's overview (each conv with the activation shown after it)."""
    return [s for s in explain.stages(spec) if s.type == "conv"]


def strongest(model: nn.Module, images: torch.Tensor, k: int = TOP, batch: int = 500) -> dict[str, Strongest]:
    """For every conv layer: the `k` images of `images` (N, C, H, W, normalised as the model expects) that
    excite each of its channels most. One pass over the images, no gradient; the model is not changed."""
    if images.dim() != 4 or len(images) == 0:
        raise ValueError(f"need a non-empty batch of images (N, C, H, W), not shape {tuple(images.shape)}")
    stages = conv_stages(model.spec)
    names = list(model._modules)
    last = max(names.index(s.shown) for s in stages)
    front = model[: last + 1]  # the layers up to the last shown conv output (shared modules, not copies)
    k = min(k, len(images))
    best: dict[str, tuple[torch.Tensor, ...]] = {}
    with torch.no_grad():
        for start in range(0, len(images), batch):
            x = images[start:start + batch]
            outputs = _outputs(front, x, {s.shown for s in stages})
            for s in stages:
                out = outputs[s.shown]  # (B, C, H, W)
                peak, where = out.flatten(2).max(dim=2)  # (B, C)
                ids = torch.arange(start, start + len(x)).expand(out.shape[1], -1)
                cand = (peak.T, ids, where.T)  # (C, B) each
                if s.shown in best:
                    cand = tuple(torch.cat([a, b], dim=1) for a, b in zip(best[s.shown], cand, strict=True))
                top = cand[0].topk(min(k, cand[0].shape[1]), dim=1)
                best[s.shown] = (top.values, cand[1].gather(1, top.indices), cand[2].gather(1, top.indices))
    result = {}
    for s in stages:
        values, ids, where = best[s.shown]
        width = s.shape[2]
        result[s.layer] = Strongest(s.layer, s.shown, values.numpy(), ids.numpy(),
                                    (where // width).numpy(), (where % width).numpy())
    return result


def _outputs(front: nn.Sequential, x: torch.Tensor, wanted: set[str]) -> dict[str, torch.Tensor]:
    out = {}
    for name, module in front.named_children():
        x = module(x)
        if name in wanted:
            out[name] = x
    return out


def patch(pixels: np.ndarray, spec: Spec, layer: str, row: int, col: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """The part of a (H, W) image the unit (row, col) of `layer` sees (its receptive field, clipped to the
    image) and that box (top, bottom, left, right)."""
    field = explain.receptive_field(spec, layer, row, col)
    h, w = pixels.shape
    top, bottom = max(field.top, 0), min(field.bottom, h)
    left, right = max(field.left, 0), min(field.right, w)
    return pixels[top:bottom, left:right], (top, bottom, left, right)


# --- cached with the checkpoint -------------------------------------------------------------------

def fingerprint(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """A digest (32 uint8) of the weights and the image set: a cache made for other weights (a retrained
    model) or other images (an own dataset that grew) is not reused."""
    h = hashlib.sha256()
    for name, value in model.state_dict().items():
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    h.update(images.detach().cpu().contiguous().numpy().tobytes())
    return torch.frombuffer(bytearray(h.digest()), dtype=torch.uint8)


def to_tensors(found: dict[str, Strongest], stamp: torch.Tensor) -> dict[str, torch.Tensor]:
    """Flat tensors for a safetensors extra file, with the `fingerprint` they were computed for."""
    out = {"fingerprint": stamp}
    for layer, s in found.items():
        for part in ("values", "index", "row", "col"):
            out[f"{layer}.{part}"] = torch.from_numpy(np.ascontiguousarray(getattr(s, part)))
    return out


def from_tensors(tensors: dict[str, torch.Tensor], model: nn.Module, stamp: torch.Tensor,
                 count: int) -> dict[str, Strongest] | None:
    """The cached result, or None when it was made for another fingerprint or does not fit this model and
    a set of `count` images."""
    if "fingerprint" not in tensors or not torch.equal(tensors["fingerprint"], stamp):
        return None
    found = {}
    for s in conv_stages(model.spec):
        try:
            parts = [tensors[f"{s.layer}.{p}"].numpy() for p in ("values", "index", "row", "col")]
        except KeyError:
            return None
        if any(p.shape != parts[0].shape or p.shape[0] != s.shape[0] for p in parts) or \
                parts[1].min(initial=0) < 0 or parts[1].max(initial=0) >= count:
            return None
        found[s.layer] = Strongest(s.layer, s.shown, *parts)
    return found


def cached_strongest(name: str, model: nn.Module, images: torch.Tensor) -> dict[str, Strongest]:
    """`strongest` for a checkpoint, read from its `units` extra when that was made for these weights and
    images; otherwise computed and written there (atomically; a read-only folder just is not cached)."""
    stamp = fingerprint(model, images)
    try:
        if EXTRA in checkpoints.extras(name):
            found = from_tensors(checkpoints.load_extra(name, EXTRA), model, stamp, len(images))
            if found is not None:
                return found
    except checkpoints.CheckpointError:
        pass  # damaged: computed again, and the damaged file replaced
    found = strongest(model, images)
    _write(checkpoints.resolve(name), to_tensors(found, stamp))
    return found


def _write(folder: Path, tensors: dict[str, torch.Tensor]) -> None:
    tmp = folder / f".{EXTRA}.{os.getpid()}.tmp"
    try:
        save_file(tensors, str(tmp))
        os.replace(tmp, folder / f"{EXTRA}.safetensors")
    except OSError:
        tmp.unlink(missing_ok=True)


# --- activation maximisation ----------------------------------------------------------------------

@dataclass(frozen=True)
class Dream:
    """An input grown to excite one channel: pixels (H, W) in [0, 1]; the response (before the activation)
    of the channel's centre unit at the blank start and at the end; `box`, that unit's receptive field
    (top, bottom, left, right), where the picture's pattern is."""

    pixels: np.ndarray
    start: float
    end: float
    steps: int
    box: tuple[int, int, int, int]


def dream(model: nn.Module, layer: str, channel: int, normalize: tuple[float, float], steps: int = DREAM_STEPS,
          lr: float = DREAM_LR, seed: int = 0) -> Dream:
    """Gradient ascent on the input, from an almost blank image, on the centre unit of `channel`'s map of
    `layer` (the conv's own output, so a unit that is off still gets a gradient), minus small L2 and
    total-variation penalties; pixels kept in [0, 1]. Gradients reach only the input: the model (shared
    by every session) is not touched.

    The centre unit, not the map's mean: a channel responds to a pattern at each place, and the mean over
    all places rewards whatever the kernel's weights add up to (for many conv1 kernels, a blank image)."""
    names = list(model._modules)
    if layer not in names or not isinstance(model._modules[layer], nn.Conv2d):
        raise ValueError(f"{layer!r} is not a conv layer of this model (its conv layers: "
                         f"{', '.join(s.layer for s in conv_stages(model.spec))})")
    channels = model._modules[layer].out_channels
    if not 0 <= channel < channels:
        raise ValueError(f"{layer} has channels 0..{channels - 1}, not {channel}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    front = model[: names.index(layer) + 1]
    h, w = next(s.shape for s in conv_stages(model.spec) if s.layer == layer)[1:]
    mean, std = normalize
    shape = (1, *model.spec.input_shape)
    pixels = (0.01 * torch.rand(shape, generator=torch.Generator().manual_seed(seed))).requires_grad_()
    adam = torch.optim.Adam([pixels], lr=lr)

    def response(p: torch.Tensor) -> torch.Tensor:
        return front((p - mean) / std)[0, channel, h // 2, w // 2]

    with torch.no_grad():
        start = float(response(pixels))
    for _ in range(steps):
        objective = response(pixels) - DREAM_DECAY * (pixels ** 2).sum() - DREAM_SMOOTH * _variation(pixels)
        (grad,) = torch.autograd.grad(-objective, pixels)
        pixels.grad = grad
        adam.step()
        with torch.no_grad():
            pixels.clamp_(0.0, 1.0)
    with torch.no_grad():
        end = float(response(pixels))
    image = pixels.detach()[0, 0].numpy().copy()
    return Dream(image, start, end, steps, patch(image, model.spec, layer, h // 2, w // 2)[1])


def _variation(p: torch.Tensor) -> torch.Tensor:
    return (p[..., 1:, :] - p[..., :-1, :]).abs().sum() + (p[..., :, 1:] - p[..., :, :-1]).abs().sum()
