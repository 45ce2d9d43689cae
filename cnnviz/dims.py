"""Shape arithmetic over a spec: output shapes, parameters, memory, MACs, receptive field.

Everything here is pure integer arithmetic, checked against real torch forward
passes in tests/test_dims.py, so the calculator and the trained network can
never disagree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from cnnviz.spec import Layer, Spec

BYTES_PER_FLOAT = 4  # float32 activations and weights


def effective_kernel(kernel_size: int, dilation: int = 1) -> int:
    """The span a dilated kernel covers: D*(K-1) + 1."""
    return dilation * (kernel_size - 1) + 1


def conv_out(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """O = floor((W - K_eff + 2P) / S) + 1, as torch computes it; ValueError if O <= 0 or an argument is bad."""
    _check_args(size, kernel_size, stride, padding, dilation)
    k_eff = effective_kernel(kernel_size, dilation)
    out = (size - k_eff + 2 * padding) // stride + 1
    if out <= 0:
        dil = f" (dilation {dilation} makes it span {k_eff})" if dilation > 1 else ""
        raise ValueError(f"output size would be {out}: kernel {kernel_size}{dil} > input {size} + 2*padding {padding}")
    return out


def _check_args(size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> None:
    for name, value, low in (("input size", size, 1), ("kernel size", kernel_size, 1),
                             ("stride", stride, 1), ("padding", padding, 0), ("dilation", dilation, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")


def check_pool_padding(kernel_size: int, padding: int) -> None:
    """PyTorch's pooling rule: padding at most kernel_size // 2; ValueError naming the numbers otherwise."""
    if padding > kernel_size // 2:
        raise ValueError(f"padding {padding} is more than half the kernel {kernel_size}; "
                         f"PyTorch allows pooling padding of at most kernel_size // 2 = {kernel_size // 2}")


@dataclass(frozen=True)
class Worked:
    """One layer's output size, worked out step by step for display."""

    size: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    k_eff: int
    numerator: int      # W - K_eff + 2P
    out: int            # floor(numerator / S) + 1
    exact: bool         # numerator divisible by S
    lost: int           # pixels of the padded input no window reaches (per side's end)
    padding_kind: str   # "valid", "same", "full" or "custom"
    steps: tuple[str, ...]
    notes: tuple[str, ...]


def worked(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> Worked:
    """Work O = (W - K + 2P)/S + 1 out with the numbers filled in; ValueError (naming them) if O <= 0."""
    _check_args(size, kernel_size, stride, padding, dilation)
    k_eff = effective_kernel(kernel_size, dilation)
    num = size - k_eff + 2 * padding
    steps = []
    if dilation > 1:
        steps.append(f"K_eff = D(K - 1) + 1 = {dilation}({kernel_size} - 1) + 1 = {k_eff}")
    steps.append(f"O = (W - K + 2P)/S + 1 = ({size} - {k_eff} + 2·{padding})/{stride} + 1")
    steps.append(f"  = {num}/{stride} + 1")
    out = num // stride + 1
    if out <= 0:
        conv_out(size, kernel_size, stride, padding, dilation)  # raises the standard message
    exact = num % stride == 0
    lost = num % stride
    if exact:
        steps.append(f"  = {num // stride} + 1 = {out}")
    else:
        steps.append(f"  = {num / stride:.4g} + 1, not a whole number: PyTorch floors it")
        steps.append(f"  = floor({num / stride:.4g}) + 1 = {num // stride} + 1 = {out}")
    kind = padding_kind(size, kernel_size, stride, padding, dilation)
    return Worked(size, kernel_size, stride, padding, dilation, k_eff, num, out, exact, lost, kind,
                  tuple(steps), tuple(_notes(kind, lost, size, k_eff, stride, padding, out)))


def padding_kind(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> str:
    """Name the padding: "valid" (P=0), "same" (O = ceil(W/S)), "full" (P = K_eff-1) or "custom"."""
    k_eff = effective_kernel(kernel_size, dilation)
    if padding == 0:
        return "valid"
    if (size - k_eff + 2 * padding) // stride + 1 == math.ceil(size / stride) and 2 * padding <= k_eff:
        return "same"
    if padding == k_eff - 1:
        return "full"
    return "custom"


def _notes(kind: str, lost: int, size: int, k_eff: int, stride: int, padding: int, out: int) -> list[str]:
    explain = {
        "valid": "Valid padding (P = 0): the kernel only visits positions where it fits inside the input, "
                 "so the output is smaller than the input.",
        "same": "Same padding: the output keeps the input's size" + (" (divided by the stride, rounded up)."
                                                                      if stride > 1 else "."),
        "full": "Full padding (P = K - 1): every position where the kernel touches at least one input pixel.",
        "custom": f"Custom padding P = {padding}.",
    }
    notes = [explain[kind]]
    if lost:
        notes.append(f"(W - K + 2P) = {size + 2 * padding - k_eff} is not divisible by the stride {stride}: "
                     f"PyTorch rounds down, so the last {lost} row(s)/column(s) of the padded input are never "
                     f"covered by a window and do not affect the output.")
    return notes


def same_padding(kernel_size: int, dilation: int = 1) -> int | None:
    """P = (K_eff - 1)/2 keeps the size at stride 1; None when K_eff is even (no symmetric 'same' exists)."""
    k_eff = effective_kernel(kernel_size, dilation)
    return (k_eff - 1) // 2 if k_eff % 2 == 1 else None


@dataclass(frozen=True)
class Row:
    """One layer of `table(spec)`; shapes are per image, (C, H, W) or (F,)."""

    name: str
    type: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    macs: int
    activation_bytes: int
    receptive_field: int | None   # side of the input window one output unit sees; None = the whole input
    jump: int | None              # distance in input pixels between neighbouring outputs


@dataclass(frozen=True)
class Analysis:
    """`table` without raising: rows up to the first impossible layer, and why it is impossible."""

    rows: tuple[Row, ...]
    error_index: int | None      # index of the first impossible layer
    error: str | None


def analyze(spec: Spec) -> Analysis:
    """Compute every row until a layer is impossible; report that layer's index and the reason."""
    rows: list[Row] = []
    shape: tuple[int, ...] = spec.input_shape
    rf: int | None = 1
    jump: int | None = 1
    for i, (name, layer) in enumerate(zip(spec.layer_names(), spec.layers)):
        try:
            out = _out_shape(layer, shape)
        except ValueError as err:
            return Analysis(tuple(rows), i, f"{name} ({layer.type}): {err}")
        params = _params(layer, shape)
        rf, jump = _receptive(layer, rf, jump)
        rows.append(Row(name, layer.type, shape, out, params, _macs(layer, shape, out),
                        math.prod(out) * BYTES_PER_FLOAT, rf, jump))
        shape = out
    return Analysis(tuple(rows), None, None)


def table(spec: Spec) -> list[Row]:
    """Every layer's output shape, parameters, MACs, activation memory and receptive field; ValueError if impossible."""
    result = analyze(spec)
    if result.error is not None:
        raise ValueError(result.error)
    return list(result.rows)


def _out_shape(layer: Layer, shape: tuple[int, ...]) -> tuple[int, ...]:
    t = layer.type
    if t in ("conv", "maxpool", "avgpool"):
        if len(shape) != 3:
            raise ValueError(f"needs a (C, H, W) input but gets the flat shape {shape}; put it before flatten")
        if t != "conv":
            check_pool_padding(layer.k, layer.pad)
        c, h, w = shape
        size = [conv_out(v, layer.k, layer.s, layer.pad, layer.dil) for v in (h, w)]
        return (layer.out_channels if t == "conv" else c, *size)
    if t == "flatten":
        return (math.prod(shape),)
    if t == "linear":
        if len(shape) != 1:
            raise ValueError(f"needs a flat input but gets {'x'.join(map(str, shape))}; add a flatten layer before it")
        return (layer.out_features,)
    return shape  # relu, tanh, sigmoid, batchnorm, dropout keep the shape


def _params(layer: Layer, shape: tuple[int, ...]) -> int:
    bias = 1 if layer.has_bias else 0
    if layer.type == "conv":
        return layer.out_channels * (shape[0] * layer.k * layer.k + bias)
    if layer.type == "linear":
        return layer.out_features * (shape[0] + bias)
    if layer.type == "batchnorm":
        return 2 * shape[0]  # weight and bias (running stats are buffers, not parameters)
    return 0


def _macs(layer: Layer, in_shape: tuple[int, ...], out: tuple[int, ...]) -> int:
    """Multiply-accumulates per image (conv: every output value sums C_in*K*K products)."""
    if layer.type == "conv":
        return math.prod(out) * in_shape[0] * layer.k * layer.k
    if layer.type == "linear":
        return in_shape[0] * layer.out_features
    return 0


def _receptive(layer: Layer, rf: int | None, jump: int | None) -> tuple[int | None, int | None]:
    """r_out = r_in + (K_eff - 1) * j_in; j_out = j_in * S. After flatten every unit sees the whole input."""
    if rf is None or jump is None or layer.type in ("flatten", "linear"):
        return None, None
    if layer.type in ("conv", "maxpool", "avgpool"):
        k_eff = effective_kernel(layer.k, layer.dil)
        return rf + (k_eff - 1) * jump, jump * layer.s
    return rf, jump


@dataclass(frozen=True)
class Totals:
    """Whole-network sums, per image, float32.

    forward_bytes: the input plus every layer's output, kept for one forward pass.
    training_bytes: forward activations twice (values + their gradients) plus the
    weights twice (values + gradients); optimizer state (e.g. Adam's 2 more copies) not included.
    """

    params: int
    param_bytes: int
    macs: int
    activation_bytes: int
    forward_bytes: int
    training_bytes: int


def totals(spec: Spec, rows: list[Row] | tuple[Row, ...] | None = None) -> Totals:
    """Sum a table: parameters, MACs and memory for one image."""
    rows = table(spec) if rows is None else rows
    params = sum(r.params for r in rows)
    acts = sum(r.activation_bytes for r in rows)
    input_bytes = math.prod(spec.input_shape) * BYTES_PER_FLOAT
    param_bytes = params * BYTES_PER_FLOAT
    return Totals(params, param_bytes, sum(r.macs for r in rows), acts,
                  input_bytes + acts + param_bytes, input_bytes + 2 * acts + 2 * param_bytes)


def flow(spec: Spec, rows: list[Row] | tuple[Row, ...]) -> str:
    """The shapes through the network in one line, skipping layers that keep the shape:
    '1×28×28 → conv1 16×28×28 → ...'."""
    parts = [f"input {shape_str(spec.input_shape)}"]
    parts += [f"{r.name} {shape_str(r.out_shape)}" for r in rows if r.out_shape != r.in_shape]
    return " → ".join(parts)


def shape_str(shape: tuple[int, ...]) -> str:
    """(16, 28, 28) -> '16×28×28'."""
    return "×".join(str(v) for v in shape)


def human_bytes(n: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
