"""A page's state <-> URL query parameters: a small declared schema per page, and a codec that never trusts the URL.

A schema maps a query-parameter name to a field (Int, Float, Bool, Choice, Text, Grid). `encode` turns the
state into strings for `st.query_params`; `decode` turns whatever arrived in a URL back into typed values and
drops everything else (unknown keys, wrong types, out-of-range or non-finite numbers, over-long values, a list
where one value belongs) with a note saying what was ignored and why. Nothing is ever evaluated: numbers are
matched by a regular expression before `int()` / `float()` see them, choices are looked up in a table.

    schema = {"stride": Int(1, 4, default=1, key="pg_stride"), "kernel": Choice(("edge", "blur"), "edge")}
    encode(schema, {"stride": 2, "kernel": "blur"})          -> {"stride": "2", "kernel": "blur"}
    decode(schema, {"stride": "99", "x": "1"})               -> Decoded(values={}, notes=[...stride..., ...x...])

`key` names the session-state key a page keeps the value under (default: the parameter name).
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from cnnviz.text import cut

MAX_VALUE_CHARS = 2000  # a network's layers fit; a 10 kB value does not
MAX_PARAMS = 64         # more query parameters than any page has: the rest are ignored unread
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d{1,20}(\.\d{0,20})?|\.\d{1,20})([eE][+-]?\d{1,3})?")
_SHOWN = 40             # how much of a bad value a note repeats


class Invalid(ValueError):
    """A value that a field refuses; the message says why."""


@dataclass(frozen=True)
class Field:
    """Base of the typed fields: `default` is the page's own default, `key` its session-state key."""

    default: Any = None
    key: str | None = None

    def parse(self, text: str) -> Any:
        """The typed value of `text`, or Invalid."""
        raise NotImplementedError

    def format(self, value: Any) -> str:
        """The query-string text of a valid value; Invalid for a value this field would refuse."""
        text = str(value)
        if self.parse(text) != value:
            raise Invalid(f"{value!r} does not round-trip")
        return text


@dataclass(frozen=True)
class Int(Field):
    """A whole number in [lo, hi]."""

    lo: int = 0
    hi: int = 0

    def __init__(self, lo: int, hi: int, default: int | None = None, key: str | None = None):
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "default", default)  # None: no default, always in the link
        object.__setattr__(self, "key", key)

    def parse(self, text: str) -> int:
        if not _INT.fullmatch(text):
            raise Invalid("not a whole number")
        if len(text) > 18:  # int() of a 4,300-digit string is refused by Python itself; far sooner here
            raise Invalid(f"outside {self.lo} to {self.hi}")
        value = int(text)
        if not self.lo <= value <= self.hi:
            raise Invalid(f"outside {self.lo} to {self.hi}")
        return value

    def format(self, value: Any) -> str:
        whole = isinstance(value, int) or isinstance(value, float) and value.is_integer()
        if isinstance(value, bool) or not whole:
            raise Invalid(f"{value!r} is not a whole number")
        return str(self.parse(str(int(value))))


@dataclass(frozen=True)
class Float(Field):
    """A finite number in [lo, hi]."""

    lo: float = 0.0
    hi: float = 0.0

    def __init__(self, lo: float, hi: float, default: float | None = None, key: str | None = None):
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "default", default)  # None: no default, always in the link
        object.__setattr__(self, "key", key)

    def parse(self, text: str) -> float:
        if not _FLOAT.fullmatch(text):  # refuses nan, inf, 1_000, 0x10 and every expression
            raise Invalid("not a number")
        value = float(text)
        if not math.isfinite(value) or not self.lo <= value <= self.hi:
            raise Invalid(f"outside {self.lo:g} to {self.hi:g}")
        return value

    def format(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(f"{value!r} is not a number")
        return f"{self.parse(repr(float(value))):.10g}"


@dataclass(frozen=True)
class Bool(Field):
    """On or off: 1/0 (true/false, on/off also read)."""

    def __init__(self, default: bool = False, key: str | None = None):
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "key", key)

    def parse(self, text: str) -> bool:
        words = {"1": True, "true": True, "on": True, "0": False, "false": False, "off": False}
        if text.lower() not in words:
            raise Invalid("not 1 or 0")
        return words[text.lower()]

    def format(self, value: Any) -> str:
        if not isinstance(value, bool):
            raise Invalid(f"{value!r} is not True or False")
        return "1" if value else "0"


@dataclass(frozen=True)
class Choice(Field):
    """One of a fixed list of options (strings or numbers), written as str(option)."""

    options: tuple = ()

    def __init__(self, options: Sequence, default: Any = None, key: str | None = None):
        options = tuple(options)
        if not options or len({str(o) for o in options}) != len(options):
            raise ValueError(f"a Choice needs distinct options, got {options!r}")
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "default", options[0] if default is None else default)
        if default is ...:  # Ellipsis: no default, always in the link (the page chooses the value)
            object.__setattr__(self, "default", None)
        object.__setattr__(self, "key", key)

    def parse(self, text: str) -> Any:
        for option in self.options:
            if str(option) == text:
                return option
        shown = ", ".join(str(o) for o in self.options[:8]) + (", …" if len(self.options) > 8 else "")
        raise Invalid(f"not one of {shown}")

    def format(self, value: Any) -> str:
        if not any(str(o) == str(value) for o in self.options):
            raise Invalid(f"{value!r} is not one of the options")
        return str(value)


@dataclass(frozen=True)
class Text(Field):
    """Free text of at most `max_chars` printable characters (a name, never code).

    `check`, when given, is called with the text and raises ValueError for text the page cannot use (a
    network's layers as JSON); its message becomes the note.
    """

    max_chars: int = 80
    check: Callable[[str], Any] | None = None

    def __init__(self, max_chars: int = 80, default: str = "", key: str | None = None,
                 check: Callable[[str], Any] | None = None):
        object.__setattr__(self, "max_chars", max_chars)
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "check", check)

    def parse(self, text: str) -> str:
        if len(text) > self.max_chars:
            raise Invalid(f"longer than {self.max_chars} characters")
        if not text.isprintable():
            raise Invalid("contains control characters")
        if self.check is not None:
            try:
                self.check(text)
            except ValueError as err:
                raise Invalid(str(err)) from None
        return text


@dataclass(frozen=True)
class Grid(Field):
    """A square grid of finite numbers (a custom kernel), written row by row: "0,1,0;1,-4,1;0,1,0"."""

    sizes: tuple[int, ...] = (3, 5)
    limit: float = 1e6

    def __init__(self, sizes: Sequence[int] = (3, 5), limit: float = 1e6, default: Any = None,
                 key: str | None = None):
        object.__setattr__(self, "sizes", tuple(sizes))
        object.__setattr__(self, "limit", limit)
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "key", key)

    def parse(self, text: str) -> tuple[tuple[float, ...], ...]:
        rows = [row.split(",") for row in text.split(";")]
        if len(rows) not in self.sizes or any(len(row) != len(rows) for row in rows):
            raise Invalid(f"not a square grid of {' or '.join(f'{n}x{n}' for n in self.sizes)} numbers")
        cell = Float(-self.limit, self.limit)
        try:
            return tuple(tuple(cell.parse(v.strip()) for v in row) for row in rows)
        except Invalid as err:
            raise Invalid(f"a cell is {err}") from None

    def format(self, value: Any) -> str:
        try:
            rows = [[float(v) for v in row] for row in value]
        except (TypeError, ValueError):
            raise Invalid(f"{value!r} is not a grid of numbers") from None
        text = ";".join(",".join(f"{v:.6g}" for v in row) for row in rows)
        self.parse(text)
        return text


Schema = Mapping[str, Field]


@dataclass
class Decoded:
    """What a URL gave: the valid values by parameter name, and one note per ignored parameter."""

    values: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _shown(text: str) -> str:
    return repr(cut(text, _SHOWN))


def decode(schema: Schema, params: Mapping[str, Any], known: Sequence[str] = ()) -> Decoded:
    """Typed values for the schema's parameters found in `params`; every other one ignored with a note.

    `params` maps names to a string or a list of strings (st.query_params gives either); `known` names
    parameters that belong to someone else (the app's own, such as `present`) and are skipped silently.
    Never raises, whatever the URL holds.
    """
    out = Decoded()
    for count, (name, raw) in enumerate(params.items()):
        if count >= MAX_PARAMS:
            out.notes.append(f"{len(params) - MAX_PARAMS} more link parameters ignored: too many")
            break
        name = str(name)
        if name in known:
            continue
        if name not in schema:
            out.notes.append(f"{_shown(name)} ignored: this page has no such setting")
            continue
        if isinstance(raw, (list, tuple)):
            if len(raw) != 1:
                out.notes.append(f"{name} ignored: given {len(raw)} times, expected once")
                continue
            raw = raw[0]
        if not isinstance(raw, str):
            out.notes.append(f"{name} ignored: not text")
            continue
        if len(raw) > MAX_VALUE_CHARS:
            out.notes.append(f"{name} ignored: {len(raw):,} characters long (at most {MAX_VALUE_CHARS})")
            continue
        try:
            out.values[name] = schema[name].parse(raw)
        except Invalid as err:
            out.notes.append(f"{name}={_shown(raw)} ignored: {err}")
    return out


def encode(schema: Schema, state: Mapping[str, Any], skip_defaults: bool = True) -> dict[str, str]:
    """Query-string text for each schema parameter present in `state` (defaults left out unless asked).

    Raises ValueError naming the parameter and value when the state holds something the schema refuses:
    the page's own state is trusted to be valid, unlike a URL.
    """
    out = {}
    for name, spec in schema.items():
        if name not in state:
            continue
        value = state[name]
        if skip_defaults and spec.default is not None and _same(value, spec.default):
            continue
        try:
            out[name] = spec.format(value)
        except Invalid as err:
            raise ValueError(f"cannot put {name}={value!r} in a link: {err}") from None
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):  # numpy arrays and other things without a plain ==
        return False


def address(base: str, query: Mapping[str, str]) -> str:
    """The link that reopens a view: the page's URL `base` (a trailing / dropped) with `query` encoded."""
    base = base.rstrip("/")
    return f"{base}?{urlencode(query)}" if query else base
