"""Twenty (or n) students' drawings on a class wall, without a browser: what the class wall's browser test
(tests/test_browser_class.py), its bench (bench/class_wall.py) and its screenshot (tools/class_wall_shot.py) share.

Imported from the repository root (`python -m pytest`, the bench and tools scripts put it on sys.path).
"""
from __future__ import annotations

from pathlib import Path

from cnnviz import checkpoints, classwall, data, preprocess, probe


def feed(wall: Path, n: int = 20, names: dict[int, str] | None = None) -> list[classwall.Drawing]:
    """The first n real MNIST test digits on `wall` as n students' drawings (student i's nickname names[i], if
    any), answered by the shipped tutorial_a as Draw answers them. Returns the wall as read back."""
    model, card = checkpoints.load("tutorial_a")
    split = data.load("mnist", "test")
    for i in range(n):
        prepared = preprocess.from_mnist(split.raw(i)[0])
        verdict = probe.look_for_card(model, prepared.normalized(card.normalize), card).inspection.verdict
        classwall.submit(wall, f"{i:016x}", prepared.pixels, verdict.label, verdict.confidence,
                         verdict.note is not None, (names or {}).get(i, ""))
    return classwall.read(wall)
