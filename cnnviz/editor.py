"""The calculator's editable layer table <-> Spec, and the per-layer report that marks impossible layers."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from cnnviz import dims, nesting
from cnnviz.arch import LAYER_KEYS, Layer, Spec

# Editor columns -> Layer keys. "size" is out_channels for conv, out_features for linear.
COLUMNS = ("order", "type", "size", "kernel_size", "stride", "padding", "dilation", "p")
MAX_DEPTH = 4  # a link's layers are a list of flat objects: 2 levels (json.loads recurses per level)


def spec_to_records(spec: Spec) -> list[dict[str, Any]]:
    """One editor row per layer; keys as COLUMNS, unused cells None."""
    records = []
    for layer in spec.layers:
        rec: dict[str, Any] = {c: None for c in COLUMNS}
        rec["order"] = len(records) + 1
        rec["type"] = layer.type
        rec["size"] = layer.out_channels if layer.type == "conv" else layer.out_features
        for key in ("kernel_size", "stride", "padding", "dilation", "p"):
            rec[key] = getattr(layer, key)
        records.append(rec)
    return records


def ordered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort editor rows by their 'order' cell (a row typed as 2.5 moves between 2 and 3); blanks keep their
    place, last."""
    def key(item: tuple[int, dict[str, Any]]) -> tuple[float, int]:
        order = _clean(item[1].get("order"))
        try:
            return (float(order), item[0]) if order is not None else (math.inf, item[0])
        except (TypeError, ValueError):
            return (math.inf, item[0])
    return [rec for _, rec in sorted(enumerate(records), key=key)]


def record_to_layer(rec: dict[str, Any]) -> Layer:
    """Turn one editor row into a Layer; cells the type does not use are ignored. ValueError if a needed cell is bad."""
    kind = _clean(rec.get("type"))
    if kind is None:
        raise ValueError("choose a layer type")
    kind = str(kind).strip().lower()
    if kind not in LAYER_KEYS:
        raise ValueError(f"unknown layer type {kind!r}")
    required, optional = LAYER_KEYS[kind]
    args: dict[str, Any] = {}
    for key in required + optional:
        cell = _clean(rec.get("size") if key in ("out_channels", "out_features") else rec.get(key))
        if cell is None:
            continue
        args[key] = float(cell) if key == "p" else _whole(key, cell)
    return Layer(type=kind, **{k: v for k, v in args.items() if k != "bias"})


def _clean(value: Any) -> Any:
    """Empty cells (None, NaN, '') -> None."""
    if (value is None or (isinstance(value, float) and math.isnan(value))
            or (isinstance(value, str) and not value.strip())):
        return None
    return value


def _whole(key: str, value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, got {value!r}") from None
    if not number.is_integer():
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    return int(number)


@dataclass(frozen=True)
class ReportRow:
    """One line of the calculator's table; `status` is 'ok', 'error' (with `reason`) or 'skipped'."""

    name: str
    type: str
    out_shape: str
    params: int | None
    macs: int | None
    activation_bytes: int | None
    receptive_field: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Report:
    """The whole network's table, plus the Spec when every layer is possible (else None)."""

    rows: tuple[ReportRow, ...]
    spec: Spec | None
    error: str | None
    analysis: dims.Analysis | None


def report(input_shape: tuple[int, int, int], records: list[dict[str, Any]], name: str | None = None) -> Report:
    """Parse the editor rows and compute every layer; mark the first impossible layer, keep the rows before it."""
    records = [r for r in ordered(records) if any(_clean(v) is not None for k, v in r.items() if k != "order")]
    layers: list[Layer] = []
    parse_error: tuple[int, str] | None = None
    for i, rec in enumerate(records):
        try:
            layers.append(record_to_layer(rec))
        except (TypeError, ValueError) as err:
            parse_error = (i, f"row {i + 1}: {err}")
            break
    spec = Spec(tuple(input_shape), tuple(layers), name)
    analysis = dims.analyze(spec)
    rows = [_ok_row(r) for r in analysis.rows]
    error = analysis.error
    if error is None and parse_error is not None:
        error = parse_error[1]
    if error is not None:
        bad = len(rows)
        rows.append(_bad_row(records[bad], spec.layer_names()[bad] if bad < len(layers) else f"row {bad + 1}", error))
        rows += [_skipped_row(rec) for rec in records[bad + 1:]]
    return Report(tuple(rows), spec if error is None else None, error, analysis)


def display_row(r: ReportRow) -> dict[str, str]:
    """One line of the calculator's table as shown: numbers with thousands separators, bytes in KiB/MiB,
    the status as ✅, ❌ and the reason, or — and why the layer was skipped."""
    def fmt(v: int | None) -> str:
        return "" if v is None else f"{v:,}"
    return {"layer": r.name, "type": r.type, "output shape": r.out_shape, "parameters": fmt(r.params),
            "MACs": fmt(r.macs), "activation memory": "" if r.activation_bytes is None else
            dims.human_bytes(r.activation_bytes), "receptive field": r.receptive_field,
            "status": "✅" if r.status == "ok" else ("❌ " + r.reason if r.status == "error" else "— " + r.reason)}


def _ok_row(r: dims.Row) -> ReportRow:
    rf = "whole input" if r.receptive_field is None else f"{r.receptive_field}×{r.receptive_field}"
    return ReportRow(r.name, r.type, dims.shape_str(r.out_shape), r.params, r.macs, r.activation_bytes, rf, "ok")


def _bad_row(rec: dict[str, Any], name: str, reason: str) -> ReportRow:
    return ReportRow(name, str(_clean(rec.get("type")) or "?"), "impossible", None, None, None, "", "error", reason)


def _skipped_row(rec: dict[str, Any]) -> ReportRow:
    return ReportRow("", str(_clean(rec.get("type")) or "?"), "—", None, None, None, "", "skipped",
                     "not computed: follows an impossible layer")


def layers_text(spec: Spec, start: Spec) -> str:
    """An edited network's layers as compact JSON for a link; "" when they are still those of `start`."""
    layers = spec.to_json()["layers"]
    return "" if layers == start.to_json()["layers"] else json.dumps(layers, separators=(",", ":"))


def layers_spec(text: str, start: Spec) -> Spec:
    """`start` with the layers of a link's compact JSON ("" keeps its own); ValueError naming what is wrong."""
    if not text:
        return start
    try:
        nesting.check(text, MAX_DEPTH)
    except ValueError as err:
        raise ValueError(f"the link's layers are {err}") from None
    try:
        layers = json.loads(text)
    except ValueError as err:
        raise ValueError(f"the link's layers are not valid JSON ({err})") from None
    except RecursionError:  # nesting the count missed: still a message, never a crash
        raise ValueError("the link's layers are nested too deeply to read") from None
    if not isinstance(layers, list):
        raise ValueError("the link's layers are not a list")
    return Spec.from_json({"name": start.name, "input_shape": list(start.input_shape), "layers": layers})


def check_layers(text: str) -> None:
    """ValueError naming what is wrong with a link's layers text, checked without a network ("" is fine)."""
    layers_spec(text, Spec((1, 1, 1)))
