"""cnnviz.backprop_lines: every line 'How it learns' shows adds up at the shown precision ('=' holds for the
shown numbers, '≈' says why and is within rounding); a weight's terms come largest first, then the rest summed."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from conftest import SHOWN_NUMBER, written_like

from cnnviz import backprop, backprop_lines
from tests.test_backprop import _indices


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    """Real MNIST test digits #0-#2 (a 7, a 2, a 1), normalised: (3, 1, 28, 28)."""
    from cnnviz import data
    return data.load("mnist", "test", download=False).images[:3]


# ---- the shown lines: every '=' holds for the shown numbers, every '≈' says why and is within rounding

N = SHOWN_NUMBER
REASON = re.compile(r" \(≈: terms rounded to [^)]*\)$")


def _judge(sign: str, value: float, text: str, line: str) -> None:
    assert ("≈" in line) == bool(REASON.search(line)), line
    if sign == "=":
        assert written_like(value, text), f"{line!r}: the shown numbers give {value!r}"
    else:
        assert not written_like(value, text), line
        assert abs(value - float(text)) <= max(abs(float(text)), abs(value)) * 0.05 + 1e-9, line


def _check_lines(s: backprop.Step, name: str, index: tuple[int, ...]) -> tuple[int, int]:
    """Recompute every result the weight's lines state; (lines checked, lines with ≈)."""
    lines = backprop_lines.weight_lines(s, name, index) + backprop_lines.update_lines(s, name, index)
    checked = approx = 0
    for line in lines:
        body = REASON.sub("", line)
        approx += "≈" in line
        where = r"(?:g = )?(?:at \(\d+, \d+\)(?:, \w+\[[\d, ]+\]| \(padding\))?|output \d+(?:, \w+\[\d+\])?)"
        if m := re.fullmatch(rf"{where}: {N} × {N} ([=≈]) {N}", body):
            _judge(m.group(3), float(m.group(1)) * float(m.group(2)), m.group(4), line)
            if body.startswith("g = "):  # a dense weight: its one term is the gradient
                assert written_like(float(s.grads[name][index]), m.group(4))
        elif m := re.fullmatch(rf"g = (.+) ([=≈]) {N}", body):
            total = sum(float(re.fullmatch(N, t).group(1)) for t in m.group(1).split(" + "))
            _judge(m.group(2), total, m.group(3), line)
            assert written_like(float(s.grads[name][index]), m.group(3))   # the total is the Step's gradient
        elif m := re.fullmatch(rf"change = −lr × g = −{N} × {N} ([=≈]) {N}", body):
            _judge(m.group(3), -float(m.group(1)) * float(m.group(2)), m.group(4), line)
        elif m := re.fullmatch(rf"w − lr × g = {N} − {N} × {N} ([=≈]) {N}", body):
            _judge(m.group(4), float(m.group(1)) - float(m.group(2)) * float(m.group(3)), m.group(5), line)
            assert written_like(float(s.after[name][index]), m.group(5))
        else:
            assert not re.search(r"[=≈] -?\d", body) or body.startswith("∂L/∂"), f"unchecked: {line!r}"
            continue
        checked += 1
    return checked, approx


@pytest.mark.parametrize("preset", ["tutorial_a", "lenet5", "logistic"])
def test_every_shown_line_adds_up_at_the_shown_precision(preset, digits):
    model = backprop.untrained(preset)
    rng = np.random.default_rng(5)
    checked = approx = 0
    for i, label in ((0, 7), (1, 3)):
        s = backprop.step(model, digits[i:i + 1], label)
        for name in backprop.weight_names(s):
            for index in [backprop.strongest(s, name)] + _indices(tuple(s.grads[name].shape), rng, n=2):
                c, a = _check_lines(s, name, index)
                checked, approx = checked + c, approx + a
    assert checked > 50 and approx < checked / 2, (checked, approx)


def test_weight_lines_list_the_largest_terms_then_the_rest(digits):
    s = backprop.step(backprop.untrained("tutorial_a"), digits[:1], 7)
    index = backprop.strongest(s, "conv2.weight")
    lines = backprop_lines.weight_lines(s, "conv2.weight", index)
    assert lines[0].startswith(f"∂L/∂conv2.weight[{', '.join(map(str, index))}] = Σ over the 196 positions")
    assert "pool1" in lines[0]                                # conv2 reads pool1's maps
    assert len(lines) == 1 + backprop.TOP_TERMS + 2 and lines[-2].startswith("the other 188 terms sum to")
    products = [abs(float(re.search(rf"([=≈]) {N}$", REASON.sub("", line)).group(2)))
                for line in lines[1:1 + backprop.TOP_TERMS]]
    assert products == sorted(products, reverse=True)
    s = backprop.step(backprop.untrained("tutorial_a"), torch.zeros(1, 1, 28, 28), 7)  # a blank picture
    lines = backprop_lines.weight_lines(s, "conv1.weight", (0, 0, 2, 2))                     # meets only zeros
    assert len(lines) == 4 and lines[2] == "the other 783 terms are 0 (the input or the gradient there was 0)"
    assert lines[-1] == "g = 0.000 = 0.000"


def test_loss_output_and_after_lines(digits):
    s = backprop.step(backprop.untrained("tutorial_a"), digits[:1], 7)
    m = re.fullmatch(rf"loss = −log p\(7\) = −log\({N}\) ([=≈]) {N}", REASON.sub("", backprop_lines.loss_line(s)))
    assert m, backprop_lines.loss_line(s)
    _judge(m.group(2), -math.log(float(m.group(1))), m.group(3), backprop_lines.loss_line(s))
    assert written_like(s.loss, m.group(3)) and written_like(float(s.probs_before[7]), m.group(1))
    rows = backprop_lines.output_rows(s, tuple("abcdefghij"))
    assert [r["class"] for r in rows] == list("abcdefghij") and [r["y"] for r in rows].count("1") == 1
    for r in rows:  # the shown p minus the shown y is the shown p − y, digit for digit
        again = f"{float(r['p']) - int(r['y']):.6f}"
        assert (again.lstrip("-") if float(again) == 0 else again) == r["p − y"]
    line = backprop_lines.after_line(s)
    m = re.fullmatch(rf"p\(7\): {N} → {N}, (up|down) by {N} − {N} ([=≈]) {N}; loss {N} → {N}",
                     REASON.sub("", line.split(";")[0]) + ";" + line.split(";")[1])
    assert m, line
    _judge(m.group(6), float(m.group(4)) - float(m.group(5)), m.group(7), line.split(";")[0])
    assert m.group(3) == ("up" if s.probs_after[7] > s.probs_before[7] else "down")
    assert written_like(float(s.probs_after[7]), m.group(2)) and written_like(s.loss_after, m.group(9))


@pytest.mark.parametrize("preset", ["tutorial_a", "tutorial_b", "lenet5", "keras_small"])
def test_every_passage_has_its_rule_and_a_worked_example(preset, digits):
    s = backprop.step(backprop.untrained(preset), digits[:1], 7)
    for p in s.passages:
        lines = backprop_lines.passage_lines(s, p.layer, channel=1)
        assert lines[0] == p.rule
        for line in lines[1:]:
            body = REASON.sub("", line)
            if m := re.fullmatch(rf"= (.+) ([=≈]) {N}", body):  # dense: Σ weight × gradient
                total = sum(float(re.fullmatch(N, t).group(1)) for t in m.group(1).split(" + "))
                _judge(m.group(2), total, m.group(3), line)
            elif m := re.search(rf": {N} / (\d+) ([=≈]) {N} to each", body):  # average pooling
                _judge(m.group(3), float(m.group(1)) / int(m.group(2)), m.group(4), line)
            elif m := re.search(rf": {N} × \(1 − {N}²\) ([=≈]) {N}", body):  # tanh
                _judge(m.group(3), float(m.group(1)) * (1 - float(m.group(2)) ** 2), m.group(4), line)
        if p.type == "maxpool":
            assert "gets its gradient" in lines[1] and "the other 3 inputs" in lines[1]
        if p.type == "relu":
            assert "were on" in lines[1] and any("becomes 0" in line for line in lines)
