"""What each page shows that answers a lesson's question: its answer-bearing parts, declared once, by name.

A lesson step asks the class to predict, then reveals. Until *Reveal* is pressed, the parts a step names
(`hide = ["output", "formula"]` in the lesson file; the page's DEFAULT when the step names none) are drawn as
a placeholder instead of themselves. Pages wrap each part with `ui.answer(part)` (app_pages/shell/ui.py);
the names, what each covers, and the defaults live here, so lessons and the builder can check them.
"""
from __future__ import annotations

from collections.abc import Sequence

# page -> part -> what it covers (said in the placeholder: "Predict first, then press Reveal to see <what>.")
PARTS: dict[str, dict[str, str]] = {
    "dimensions": {"output": "the output size (and its window picture)", "formula": "the worked formula"},
    "playground": {"output": "the convolution's output picture", "pooled": "the picture after ReLU and pooling",
                   "steps": "the step-through (the numbers behind each output pixel and the sizes)"},
    "trainer": {"result": "the run's result (accuracy, curves, mistakes)"},
    "draw": {"prediction": "the network's answer and its probabilities",
             "inside": "what each layer makes of the drawing"},
    "learn": {"after": "the answer after the step (the same image, answered again)"},
}
DEFAULT: dict[str, tuple[str, ...]] = {   # what a step hides when it does not say
    "dimensions": ("output", "formula"),
    "playground": ("output", "pooled", "steps"),
    "trainer": ("result",),
    "draw": ("prediction",),
    "learn": ("after",),
}
PLACEHOLDER = "Predict first, then press Reveal to see {what}."


def parts(page: str) -> tuple[str, ...]:
    """The answer-bearing parts of `page` ("" is the calculator), in the order the page shows them."""
    if (page or "dimensions") not in PARTS:
        raise ValueError(f"no page {page!r}; pages: {', '.join(PARTS)}")
    return tuple(PARTS[page or "dimensions"])


def check(page: str, hide: object | None) -> tuple[str, ...]:
    """A step's `hide` for `page`: its part names (None: the page's default); ValueError naming a bad one."""
    known = parts(page)
    if hide is None:
        return DEFAULT[page or "dimensions"]
    if not isinstance(hide, (list, tuple)) or not all(isinstance(h, str) for h in hide):
        raise ValueError(f"a list of part names ({', '.join(known)}), got {type(hide).__name__}")
    for name in hide:
        if name not in known:
            shown = name if len(name) <= 40 else name[:40] + "…"
            raise ValueError(f"{shown!r} is not a part of this page ({', '.join(known)})")
    return tuple(dict.fromkeys(hide))  # in the file's order, once each


def hidden(page: str, step_page: str | None, hide: Sequence[str], revealed: bool) -> frozenset[str]:
    """The parts hidden on `page` now: the step's `hide` when the step is on this page and not yet revealed."""
    if step_page is None or revealed or (page or "dimensions") != (step_page or "dimensions"):
        return frozenset()
    return frozenset(hide)


def placeholder(page: str, part: str) -> str:
    """The text shown instead of a hidden part."""
    return PLACEHOLDER.format(what=PARTS[page or "dimensions"][part])
