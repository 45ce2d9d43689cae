"""Layer specs: one frozen, JSON-round-tripping description of a network (no torch, no shapes).

The bottom of the library: `dims` computes shapes over a Spec, `arch` builds the
torch model from it; both import this module, neither imports the other at load.
Keys are named after torch's own arguments. Optional arguments default to
None, meaning "torch's default", and are left out of the JSON, so
`Spec.from_json(obj).to_json() == obj` for any canonical `obj`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# type -> (required keys, optional keys)
LAYER_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "conv": (("out_channels", "kernel_size"), ("stride", "padding", "dilation", "bias")),
    "maxpool": (("kernel_size",), ("stride", "padding", "dilation")),
    "avgpool": (("kernel_size",), ("stride", "padding")),
    "relu": ((), ()),
    "tanh": ((), ()),
    "sigmoid": ((), ()),
    "batchnorm": ((), ()),
    "dropout": ((), ("p",)),
    "flatten": ((), ()),
    "linear": (("out_features",), ("bias",)),
}
LAYER_TYPES = tuple(LAYER_KEYS)
# Bounds on a spec's whole numbers: generous for any network a lesson or the trainer meets (the budget check,
# not these, says what this server can train), small enough for a table cell, a browser's number (exact below
# 2**53) and Arrow's int64 (a link's out_channels of 10**300 broke the calculator's table).
MAX_WIDTH = 10_000_000   # out_channels, out_features, input channels
MAX_SIDE = 4_096         # kernel_size, stride, padding, dilation, input height and width (the calculator's W)
_BOUNDS = {"out_channels": (1, MAX_WIDTH), "out_features": (1, MAX_WIDTH), "kernel_size": (1, MAX_SIDE),
           "stride": (1, MAX_SIDE), "padding": (0, MAX_SIDE), "dilation": (1, MAX_SIDE)}
# The prefix of a layer's name in the built model: conv1, relu1, pool1, fc1 ...
NAME_PREFIX = {"conv": "conv", "maxpool": "pool", "avgpool": "pool", "relu": "relu",
               "tanh": "tanh", "sigmoid": "sigmoid", "batchnorm": "bn",
               "dropout": "dropout", "flatten": "flatten", "linear": "fc"}


@dataclass(frozen=True)
class Layer:
    """One layer. Only the keys its `type` uses may be set (see LAYER_KEYS)."""

    type: str
    out_channels: int | None = None
    kernel_size: int | None = None
    stride: int | None = None
    padding: int | None = None
    dilation: int | None = None
    bias: bool | None = None
    p: float | None = None
    out_features: int | None = None

    def __post_init__(self) -> None:
        if self.type not in LAYER_KEYS:
            raise ValueError(f"unknown layer type {self.type!r}; choose one of {', '.join(LAYER_TYPES)}")
        required, optional = LAYER_KEYS[self.type]
        for key in required:
            if getattr(self, key) is None:
                raise ValueError(f"a {self.type} layer needs {key}")
        for f in fields(self):
            if f.name != "type" and f.name not in required + optional and getattr(self, f.name) is not None:
                raise ValueError(f"a {self.type} layer takes no {f.name}")
        for key, (lo, hi) in _BOUNDS.items():
            value = getattr(self, key)
            if value is not None and not (_is_int(value) and value >= lo):
                raise ValueError(f"{self.type}: {key} must be a whole number >= {lo}, got {_shown(value)}")
            if value is not None and value > hi:
                raise ValueError(f"{self.type}: {key} must be at most {hi:,}, got {_shown(value)}")
        if self.bias is not None and not isinstance(self.bias, bool):
            raise ValueError(f"{self.type}: bias must be true or false, got {_shown(self.bias)}")
        if self.p is not None and not (_is_number(self.p) and 0.0 <= float(self.p) < 1.0):
            raise ValueError(f"dropout: p must be in [0, 1), got {_shown(self.p)}")

    # torch's defaults, resolved
    @property
    def k(self) -> int:
        return int(self.kernel_size or 1)

    @property
    def s(self) -> int:
        """Stride; a pool's defaults to its kernel size, as in torch."""
        if self.stride is not None:
            return int(self.stride)
        return self.k if self.type in ("maxpool", "avgpool") else 1

    @property
    def pad(self) -> int:
        return int(self.padding or 0)

    @property
    def dil(self) -> int:
        return int(self.dilation or 1)

    @property
    def has_bias(self) -> bool:
        return True if self.bias is None else bool(self.bias)

    @property
    def drop_p(self) -> float:
        return 0.5 if self.p is None else float(self.p)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Layer:
        """Build a layer from its JSON dict, rejecting unknown keys."""
        if not isinstance(obj, dict) or "type" not in obj:
            raise ValueError(f"a layer must be an object with a 'type', got {obj!r}")
        known = {f.name for f in fields(cls)}
        unknown = set(obj) - known
        if unknown:
            raise ValueError(f"{obj['type']}: unknown key(s) {', '.join(sorted(unknown))}")
        return cls(**obj)

    def to_json(self) -> dict[str, Any]:
        """The layer as a JSON dict, keeping only the keys that are set."""
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "type" and value is not None:
                out[f.name] = value
        return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A bad value as a message repeats it: 10**300 is '1000000000…' (301 digits), not 301 digits."""
    text = repr(value)
    if len(text) <= 24:
        return text
    return f"{text[:12]}… ({len(text)} digits)" if _is_int(value) else f"{text[:24]}…"


@dataclass(frozen=True)
class Spec:
    """An architecture: input shape (C, H, W) plus an ordered tuple of layers."""

    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...] = field(default_factory=tuple)
    name: str | None = None

    def __post_init__(self) -> None:
        shape = tuple(self.input_shape)
        highest = (MAX_WIDTH, MAX_SIDE, MAX_SIDE)
        if len(shape) != 3 or not all(_is_int(v) and 1 <= v <= hi for v, hi in zip(shape, highest)):
            raise ValueError(f"input_shape must be three whole numbers (C, H, W): C from 1 to {MAX_WIDTH:,}, H and W "
                             f"from 1 to {MAX_SIDE:,}; got {_shown(self.input_shape)}")
        object.__setattr__(self, "input_shape", shape)
        object.__setattr__(self, "layers", tuple(self.layers))

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Spec:
        """Parse a spec from plain JSON (a dict with input_shape and layers)."""
        if not isinstance(obj, dict) or "input_shape" not in obj or "layers" not in obj:
            raise ValueError("a spec must be an object with 'input_shape' and 'layers'")
        unknown = set(obj) - {"input_shape", "layers", "name"}
        if unknown:
            raise ValueError(f"spec: unknown key(s) {', '.join(sorted(unknown))}")
        layers = []
        for i, layer in enumerate(obj["layers"], start=1):
            try:
                layers.append(Layer.from_json(layer))
            except (TypeError, ValueError) as err:
                raise ValueError(f"layer {i}: {err}") from err
        return cls(tuple(obj["input_shape"]), tuple(layers), obj.get("name"))

    def to_json(self) -> dict[str, Any]:
        """The spec as plain JSON; `Spec.from_json(s.to_json()) == s`."""
        out: dict[str, Any] = {"input_shape": list(self.input_shape),
                               "layers": [layer.to_json() for layer in self.layers]}
        if self.name is not None:
            out = {"name": self.name, **out}
        return out

    def layer_names(self) -> list[str]:
        """The module names `build` gives the layers: conv1, relu1, pool1, ..., fc1."""
        counts: dict[str, int] = {}
        names = []
        for layer in self.layers:
            prefix = NAME_PREFIX[layer.type]
            counts[prefix] = counts.get(prefix, 0) + 1
            names.append(prefix if prefix == "flatten" and counts[prefix] == 1 else f"{prefix}{counts[prefix]}")
        return names
