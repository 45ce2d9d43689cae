"""cnnviz.figures.svg: the live curves as inline SVG, from the same plan as the plotly figure."""
from __future__ import annotations

import base64
import math
import xml.etree.ElementTree as ET

import pytest

from cnnviz.figures import svg
from cnnviz.figures import training as figs
from cnnviz.train import Progress


def _history(n=5, val_every=2):
    return [Progress(b, 2 * n, b / n, 1.0 / b, 50 + b, 1000.0, 0.1 * b, 0.1 * (n - b),
                     val_loss=0.5 if b % val_every == 0 else None, val_accuracy=80.0 if b % val_every == 0 else None)
            for b in range(1, n + 1)]


def _tree(markup: str) -> ET.Element:
    """The HTML as XML (it is written well-formed), so tests read it as a tree; the SVG picture inside it too."""
    root = ET.fromstring(f"<root>{markup}</root>")
    img = root.find("img[@class='cnnviz-curves']")
    prefix = "data:image/svg+xml;base64,"
    assert img is not None and img.get("src").startswith(prefix)
    picture = ET.fromstring(base64.b64decode(img.get("src")[len(prefix):]).decode("utf-8"))
    for e in picture.iter():
        e.tag = e.tag.split("}")[-1]  # drop the SVG namespace
    root.append(picture)
    return root


def _points(d: str) -> list[tuple[float, float]]:
    return [tuple(map(float, seg.split())) for seg in d.replace("M", "|").replace("L", "|").split("|") if seg]


def test_curves_are_well_formed_svg_with_both_panels_titles_and_legend():
    history = _history()
    plan = figs.curve_plan(history)
    root = _tree(svg.curves(history))
    titles = [t.text for t in root.iter("div") if t.get("class") == "cnnviz-title"]
    assert titles == [plan.loss_title, plan.acc_title] == ["loss: 1 → 0.2", "accuracy: 55.0% (held-out 80.0%)"]
    assert "loss: 1 → 0.2" in root.find("img").get("alt")
    outer = root.find("svg")
    panels = [e for e in outer if e.tag == "svg"]
    assert len(panels) == 2 and outer.get("width") == "100%"
    loss_ticks = [t.text for t in panels[0].iter("text") if t.get("class") == "cnnviz-ytick"]
    assert loss_ticks == [f"{t:g}" for t in plan.loss_ticks] == ["0.2", "0.5", "1"]  # the plan's 1-2-5 log ticks
    acc_ticks = [t.text for t in panels[1].iter("text") if t.get("class") == "cnnviz-ytick"]
    assert acc_ticks and all(t.endswith("%") for t in acc_ticks)
    x_ticks = [t.text for t in panels[0].iter("text") if t.get("class") == "cnnviz-xtick"]
    assert x_ticks == ["0", "0.5", "1", "1.5", "2"]  # the whole run (2 epochs), not only what has been trained
    legend = "".join(root.find("div[@class='cnnviz-legend']").itertext())
    assert figs.TRAIN_NAME in legend and figs.VAL_NAME in legend


def test_the_lines_follow_the_data():
    history = _history(5)  # losses 1 .. 0.2 at epochs 0.2 .. 1 of a 2-epoch run
    root = _tree(svg.curves(history))
    train = [p.get("d") for p in root.iter("path") if p.get("class") == "cnnviz-train"]
    assert len(train) == 2  # loss and accuracy
    loss = _points(train[0])
    assert [x for x, _ in loss] == [100.0, 200.0, 300.0, 400.0, 500.0]  # epoch / 2 epochs, in a 1000-wide box
    assert all(a[1] < b[1] for a, b in zip(loss, loss[1:]))  # falling loss: each point lower (y grows down)
    acc = _points(train[1])
    assert all(a[1] > b[1] for a, b in zip(acc, acc[1:]))  # rising accuracy: each point higher
    dots = [p.get("d") for p in root.iter("path") if p.get("class") == "cnnviz-val-dots"]
    assert all(d.count("h0") == 2 for d in dots)  # the two held-out evaluations, as dots


def test_no_held_out_line_no_held_out_legend():
    root = _tree(svg.curves(_history(4, val_every=99)))
    assert figs.VAL_NAME not in "".join(root.find("div[@class='cnnviz-legend']").itertext())
    assert all(p.get("d") == "" for p in root.iter("path") if p.get("class") in ("cnnviz-val", "cnnviz-val-dots"))


def test_a_blow_up_is_drawn_and_its_nan_marked():
    history = _history(3) + [Progress(4, 10, 0.8, 3602.0, 10.0, 0.0, 0.4, 0.0),
                             Progress(5, 10, 1.0, float("nan"), 10.0, 0.0, 0.5, 0.0)]
    markup = svg.curves(history)
    root = _tree(markup)
    loss = _points(next(p.get("d") for p in root.iter("path") if p.get("class") == "cnnviz-train"))
    assert len(loss) == 4  # the NaN has no place on the axis: the line ends at the last finite loss
    assert min(y for _, y in loss) == loss[-1][1] < 100  # the climb (3602) reaches near the top of the axis
    nan = [t for t in root.iter("text") if t.get("class") == "cnnviz-nan"]
    assert len(nan) == 1 and "NaN" in nan[0].text
    assert "peak 3.6e+03" in markup


def test_thin_keeps_the_last_point():
    xs = list(range(2001))
    tx, ty = svg.thin(xs, xs, most=800)
    assert len(tx) <= 802 and tx[0] == 0 and tx[-1] == 2000 and tx == ty
    assert svg.thin([1, 2], [3, 4]) == ([1, 2], [3, 4])
    with pytest.raises(ValueError, match="most >= 2"):
        svg.thin([1], [1], most=1)


def test_path_breaks_at_nan_and_dots_skip_it():
    y_of = lambda v: v  # noqa: E731
    assert svg.path([0, 1, 2, 3], [0.0, 0.5, math.nan, 1.0], 4, y_of) == "M0.0 1000.0L250.0 500.0M750.0 0.0"
    assert svg.dots([0, 2], [0.5, math.inf], 4, y_of) == "M0.0 500.0h0"


def test_a_long_run_stays_small():
    history = [Progress(b, 20_000, b / 469, 2.3 / b, 90.0, 1000.0, b / 100, 1.0) for b in range(1, 20_001)]
    assert len(svg.curves(history)) < 60_000  # thinned: a 50-epoch run's curves do not grow with it


def test_curves_refuse_what_cannot_be_drawn():
    with pytest.raises(ValueError, match="at least one progress event"):
        svg.curves([])
    with pytest.raises(ValueError, match="height >= 6 x font_px"):
        svg.curves(_history(), height=50, font_px=14)


def test_the_live_legend_names_the_real_held_out_count():
    """4 held-out drawings, not 'held-out (1,000 test images)'."""
    history = [Progress(b, 4, b / 4, 1.0 / b, 50.0, 1000.0, 0.1 * b, 0.0, val_loss=0.5, val_accuracy=75.0,
                        val_total=4, val_what="held-out drawings") for b in range(1, 5)]
    root = _tree(svg.curves(history))
    legend = "".join(root.find("div[@class='cnnviz-legend']").itertext())
    assert "4 held-out drawings" in legend and "1,000" not in legend
    titles = [t.text for t in root.iter("div") if t.get("class") == "cnnviz-title"]
    assert titles[1].endswith("(held-out 75%)")  # not 75.0%: 3 of 4
