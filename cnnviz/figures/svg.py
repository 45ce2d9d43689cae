"""The live loss and accuracy curves as an SVG picture: what the trainer shows while a run goes.

The same curves as plotly (`training.curves`, from the same `training.curve_plan`) cost the browser ~0.25 CPU-s
for every second of training when redrawn live, most of it in plotly's own JavaScript, and the server ~0.04:
on a 2-core laptop that is time taken from the run itself (bench/train_inapp.py). As SVG the browser only swaps
one picture. Once the run has ended the page shows the plotly figure, with hover.

Sizes are in CSS pixels vertically and in percent of the width across, so the curves fill whatever column holds
them; each panel is a nested <svg> whose lines are drawn in a 1000 x 1000 box stretched over the plot area
(`vector-effect: non-scaling-stroke` keeps the strokes, and the round dots of the held-out points, round).
"""
from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Sequence

from cnnviz.figures.training import TRAIN_COLOR, TRAIN_NAME, VAL_COLOR, WRONG, CurvePlan, curve_plan, linear_ticks

MOST_POINTS = 800  # per line: a long run is thinned (every k-th event, the last always kept)
GRID, INK = "#e2e8f0", "#334155"
FONT = "'Source Sans Pro', 'Source Sans 3', 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"  # as the page
PANELS = ((0.0, 48.5), (51.5, 100.0))  # each panel's left and right edge, percent of the width
PLOT = (2.0, 97.0)  # the plot area's left and right edge, percent of its panel


def thin(xs: Sequence[float], ys: Sequence[float], most: int = MOST_POINTS) -> tuple[list[float], list[float]]:
    """At most about `most` + 1 points of (xs, ys): every k-th, always with the last."""
    if most < 2:
        raise ValueError(f"thin needs most >= 2, got {most!r}")
    k = max(1, math.ceil(len(xs) / most))
    keep = list(range(0, len(xs), k))
    if xs and keep[-1] != len(xs) - 1:
        keep.append(len(xs) - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]


def _xy(x: float, fy: float, x_max: float) -> str:
    return f"{1000 * x / x_max:.1f} {1000 * (1 - fy):.1f}"


def path(xs: Sequence[float], ys: Sequence[float], x_max: float, y_of) -> str:
    """An SVG path through the points in a 1000 x 1000 box (y down; `y_of` maps a value to 0..1 up the axis).

    A NaN/inf value breaks the line: it cannot be placed on the axis.
    """
    parts, pen = [], "M"
    for x, y in zip(xs, ys):
        fy = y_of(y) if math.isfinite(y) else math.nan
        if not math.isfinite(fy):
            pen = "M"
            continue
        parts.append(pen + _xy(x, fy, x_max))
        pen = "L"
    return "".join(parts)


def dots(xs: Sequence[float], ys: Sequence[float], x_max: float, y_of) -> str:
    """A zero-length segment at each finite point: drawn with round caps, each is a dot."""
    fys = [y_of(y) if math.isfinite(y) else math.nan for y in ys]
    return "".join(f"M{_xy(x, fy, x_max)}h0" for x, fy in zip(xs, fys) if math.isfinite(fy))


def _x(frac: float) -> str:
    """A point `frac` of the way across the plot area, in percent of the panel."""
    return f"{PLOT[0] + (PLOT[1] - PLOT[0]) * frac:.2f}%"


def _line(d: str, colour: str, name: str, width: float = 2.5, cap: str = "butt") -> str:
    return (f"<path class='cnnviz-{name}' d='{d}' fill='none' stroke='{colour}' stroke-width='{width}' "
            f"stroke-linejoin='round' stroke-linecap='{cap}' vector-effect='non-scaling-stroke'/>")


def panel(y_ticks: list[tuple[float, str]], x_ticks: list[float], x_max: float, lines: str,
          top: int, plot_h: int, font_px: int) -> str:
    """The inside of one panel: grid lines with their labels (just above each line, inside the plot),
    the lines (a 1000 x 1000 box stretched over the plot area), the x tick labels and 'epoch'."""
    bottom = top + plot_h
    halo = "paint-order='stroke' stroke='white' stroke-width='3' stroke-linejoin='round'"
    out = [f"<line x1='{_x(0)}' x2='{_x(1)}' y1='{bottom}' y2='{bottom}' stroke='{INK}'/>"]
    for frac, _text in y_ticks:
        y = bottom - frac * plot_h
        out.append(f"<line x1='{_x(0)}' x2='{_x(1)}' y1='{y:.1f}' y2='{y:.1f}' stroke='{GRID}'/>")
    out.append(f"<svg x='{_x(0)}' y='{top}' width='{PLOT[1] - PLOT[0]:.2f}%' height='{plot_h}' "
               f"viewBox='0 0 1000 1000' preserveAspectRatio='none' overflow='visible'>{lines}</svg>")
    for frac, text in y_ticks:  # over the lines, with a white halo: readable where a curve crosses
        y = bottom - frac * plot_h
        out.append(f"<text class='cnnviz-ytick' x='{_x(0)}' dx='3' y='{y - 3:.1f}' font-size='{font_px}' "
                   f"fill='{INK}' {halo}>{html.escape(text)}</text>")
    for t in x_ticks:  # the first and last label stay inside the picture, which clips what sticks out
        anchor = "start" if t == 0 else "end" if t / x_max > 0.97 else "middle"
        out.append(f"<text class='cnnviz-xtick' x='{_x(t / x_max)}' y='{bottom + font_px + 3}' "
                   f"text-anchor='{anchor}' font-size='{font_px}' fill='{INK}'>{t:g}</text>")
    out.append(f"<text x='{_x(0.5)}' y='{bottom + 2 * font_px + 8}' text-anchor='middle' font-size='{font_px}' "
               f"fill='{INK}'>epoch</text>")
    return "".join(out)


def document(plan: CurvePlan, height: int, font_px: int) -> str:
    """Both panels as one SVG document, 100% wide and `height` px tall: the lines, grids and tick labels."""
    if height < 6 * font_px:
        raise ValueError(f"curves needs height >= 6 x font_px, got height {height}, font_px {font_px}")
    top, plot_h = font_px + 4, height - 3 * font_px - 24  # room for the top tick's label, the x labels, 'epoch'
    x_max = plan.epochs if plan.epochs > 0 else 1.0
    x_ticks = [t for t in linear_ticks(0.0, x_max, 5) if t <= x_max]
    loss = panel(_loss_ticks(plan), x_ticks, x_max, _lines(plan, plan.loss, plan.val_loss, x_max, _loss_y(plan)),
                 top, plot_h, font_px)
    acc = panel(_acc_ticks(plan), x_ticks, x_max, _lines(plan, plan.acc, plan.val_acc, x_max, _acc_y(plan)),
                top, plot_h, font_px)
    loss += "".join(  # where the loss left the chart: a red cross at the top of the loss axis, named
        f"<text class='cnnviz-nan' x='{_x(e / x_max)}' y='{top + font_px}' text-anchor='end' font-size='{font_px}' "
        f"font-weight='700' fill='{WRONG}'>NaN ✕</text>" for e in plan.broken[:1])
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='100%' height='{height}' font-family=\"{FONT}\">"
            + "".join(f"<svg x='{a}%' width='{b - a}%' height='{height}' overflow='visible'>{inner}</svg>"
                      for (a, b), inner in zip(PANELS, (loss, acc))) + "</svg>")


def curves(history: Sequence, height: int = 250, font_px: int = 14) -> str:
    """The loss (log axis) and accuracy curves of `history` (>= 1 Progress) as HTML: titles, the SVG, a legend.

    The SVG is an <img> (a data: URI): st.html keeps pictures but strips inline <svg>.
    """
    plan = curve_plan(history)
    picture = base64.b64encode(document(plan, height, font_px).encode("utf-8")).decode("ascii")
    titles = (f"<div style='display:flex;justify-content:space-between;gap:3%;font-size:{font_px + 2}px;"
              f"font-weight:600;color:{INK};text-align:center;line-height:1.25'>"
              + "".join(f"<div class='cnnviz-title' style='width:{b - a}%'>{html.escape(t)}</div>"
                        for (a, b), t in zip(PANELS, (plan.loss_title, plan.acc_title))) + "</div>")
    alt = html.escape(f"training curves: {plan.loss_title}; {plan.acc_title}", quote=True)
    legend = (f"<div class='cnnviz-legend' style='display:flex;gap:18px;flex-wrap:wrap;font-size:{font_px}px;"
              f"color:{INK};margin:2px 0 0 1%'>" + _key(TRAIN_COLOR, TRAIN_NAME, False)
              + (_key(VAL_COLOR, plan.val_name, True) if plan.xv else "") + "</div>")
    return (titles + f"<img class='cnnviz-curves' alt='{alt}' src='data:image/svg+xml;base64,{picture}' "
            f"style='display:block;width:100%;height:{height}px'/>" + legend)


def _key(colour: str, name: str, dot: bool) -> str:
    """A legend entry: a short line in the colour (with a dot on it for the held-out points), then the name."""
    mark = (f"<span style='position:absolute;left:8px;top:-3px;width:9px;height:9px;border-radius:50%;"
            f"background:{colour}'></span>") if dot else ""
    return (f"<span style='display:inline-flex;align-items:center;gap:6px'><span style='position:relative;"
            f"display:inline-block;width:26px;height:3px;background:{colour}'>{mark}</span>{html.escape(name)}</span>")


def _loss_y(plan: CurvePlan) -> Callable[[float], float]:
    """A loss -> its height up the log axis, 0..1; a loss of 0 sits on the axis' floor."""
    lo, hi = (math.log10(v) for v in plan.loss_range)
    floor = plan.loss_range[0]
    return lambda v: (math.log10(max(v, floor)) - lo) / (hi - lo)


def _acc_y(plan: CurvePlan) -> Callable[[float], float]:
    """An accuracy (percent) -> its height up the axis, 0..1."""
    lo, hi = plan.acc_range
    return lambda v: (v - lo) / (hi - lo)


def _loss_ticks(plan: CurvePlan) -> list[tuple[float, str]]:
    """(height up the axis 0..1, label) of each loss tick: the plan's 1-2-5 ticks on a log axis."""
    y_of = _loss_y(plan)
    return [(y_of(t), f"{t:g}") for t in plan.loss_ticks]


def _acc_ticks(plan: CurvePlan) -> list[tuple[float, str]]:
    """(height up the axis 0..1, label) of each accuracy tick, in percent (100% at most)."""
    y_of = _acc_y(plan)
    return [(y_of(t), f"{t:g}%") for t in linear_ticks(plan.acc_range[0], min(plan.acc_range[1], 100.0), 5)]


def _lines(plan: CurvePlan, train: Sequence[float], held_out: Sequence[float], x_max: float, y_of) -> str:
    """One panel's lines: training (thinned), held-out, and a dot on each held-out evaluation."""
    return (_line(path(*thin(plan.x, train), x_max, y_of), TRAIN_COLOR, "train")
            + _line(path(plan.xv, held_out, x_max, y_of), VAL_COLOR, "val")
            + _line(dots(plan.xv, held_out, x_max, y_of), VAL_COLOR, "val-dots", 7, "round"))
